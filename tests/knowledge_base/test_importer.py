"""Importing the portal catalogue: idempotent, staff edits kept, bad input changes nothing."""

from __future__ import annotations

import dataclasses
import gzip
import json

import pytest
from sqlalchemy import func, select

from knowledge_base.dichvucong import CatalogueFileError
from knowledge_base.importer import import_dichvucong
from knowledge_base.store import ProcedureRevision, ProcedureRow, get_procedure, save_procedure
from motcua.db import session_scope

RECORD = {
    "ma_thu_tuc": "1.001193", "ten_thu_tuc": "Thủ tục đăng ký khai sinh", "cap_thuc_hien": "Cấp xã",
    "linh_vuc": "Hộ tịch",
    "cach_thuc_thuc_hien": "Hình thức nộpThời gianPhí, lệ phíMô tảTrực tiếp1 Ngày làm việcMiễn phí",
    "thanh_phan_ho_so": "* Giấy tờ phải nộp:Tên giấy tờMẫu đơn, tờ khaiSố lượngTờ khai đăng ký khai sinh1 bản chính"
                        "Giấy chứng sinh1 bản chính",
    "can_cu_phap_ly": "Tên văn bản pháp lýMã văn bảnLuật Hộ tịch60/2014/QH13",
}


def _write_jsonl(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _count(url) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(ProcedureRow))


def test_import_parses_and_a_second_import_changes_nothing(database_url, tmp_path):
    path = _write_jsonl(tmp_path / "c.jsonl", [json.dumps(RECORD, ensure_ascii=False)])
    first = import_dichvucong(database_url, path)
    assert (first.created, first.skipped) == (1, [])
    with session_scope(database_url) as session:
        procedure = get_procedure(session, "1.001193")
    assert procedure.channels[0].fee.free
    assert [d.name for d in procedure.documents] == ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"]
    assert procedure.legal_basis[0].number == "60/2014/QH13"
    second = import_dichvucong(database_url, path)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 1)
    with session_scope(database_url) as session:
        assert session.scalar(select(func.count()).select_from(ProcedureRevision)) == 1


def test_reimport_keeps_staff_edits_unless_told(database_url, tmp_path):
    path = _write_jsonl(tmp_path / "c.jsonl", [json.dumps(RECORD, ensure_ascii=False)])
    import_dichvucong(database_url, path)
    with session_scope(database_url) as session:
        edited = dataclasses.replace(get_procedure(session, "1.001193"), name="Đăng ký khai sinh (cán bộ sửa)")
        save_procedure(session, edited, actor="staff:an", staff_edit=True)
    changed = {**RECORD, "linh_vuc": "Hộ tịch (mới)"}
    _write_jsonl(path, [json.dumps(changed, ensure_ascii=False)])
    report = import_dichvucong(database_url, path)
    assert report.kept_staff_edits == 1
    with session_scope(database_url) as session:
        assert get_procedure(session, "1.001193").name == "Đăng ký khai sinh (cán bộ sửa)"
    report = import_dichvucong(database_url, path, overwrite_staff_edits=True)
    assert report.updated == 1
    with session_scope(database_url) as session:
        assert get_procedure(session, "1.001193").field == "Hộ tịch (mới)"


def test_bad_records_are_reported_and_skipped_while_good_ones_import(database_url, tmp_path):
    other = {**RECORD, "ma_thu_tuc": "1.000894", "ten_thu_tuc": "Thủ tục đăng ký kết hôn"}
    path = _write_jsonl(tmp_path / "c.jsonl", [
        json.dumps(RECORD, ensure_ascii=False), "[1, 2, 3]", "{not json",
        json.dumps({**RECORD, "ma_thu_tuc": ""}, ensure_ascii=False), json.dumps(other, ensure_ascii=False)])
    report = import_dichvucong(database_url, path)
    assert report.created == 2
    assert [line for line, _ in report.skipped] == [2, 3, 4]
    assert all(reason for _, reason in report.skipped)
    assert "dòng 2" in report.describe()


@pytest.mark.parametrize("content", ["empty", "truncated-gz", "only-bad-line", "no-code"])
def test_unusable_input_leaves_the_knowledge_base_unchanged(database_url, tmp_path, content):
    import_dichvucong(database_url, _write_jsonl(tmp_path / "ok.jsonl", [json.dumps(RECORD, ensure_ascii=False)]))
    with session_scope(database_url) as session:
        before = get_procedure(session, "1.001193")
    path = tmp_path / "bad.jsonl"
    if content == "empty":
        path.write_bytes(b"")
    elif content == "truncated-gz":
        path = tmp_path / "bad.jsonl.gz"
        blob = gzip.compress(("\n".join(json.dumps({**RECORD, "ma_thu_tuc": f"9.{i:06d}"}) for i in range(50)))
                             .encode())
        path.write_bytes(blob[: len(blob) // 2])
    elif content == "only-bad-line":
        path.write_text('"just a string"\n')
    else:
        path.write_text(json.dumps({**RECORD, "ma_thu_tuc": None}, ensure_ascii=False) + "\n")
    if content in {"empty", "truncated-gz"}:
        with pytest.raises(CatalogueFileError) as error:
            import_dichvucong(database_url, path)
        assert str(error.value)
    else:
        report = import_dichvucong(database_url, path)
        assert report.created == 0 and len(report.skipped) == 1
    assert _count(database_url) == 1
    with session_scope(database_url) as session:
        assert get_procedure(session, "1.001193") == before


@pytest.mark.shared_data
@pytest.mark.slow
def test_the_whole_shared_catalogue_imports_once_and_reimports_unchanged(shared_data, tmp_path):
    import time

    from motcua.db import upgrade_database

    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    upgrade_database(url)
    started = time.monotonic()
    first = import_dichvucong(url, shared_data / "dichvucong_procedures.jsonl.gz")
    print(f"full import: {time.monotonic() - started:.1f} s")
    assert first.records == 2642 and first.created == 2642 and not first.skipped
    second = import_dichvucong(url, shared_data / "dichvucong_procedures.jsonl.gz")
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2642)


def _default_birth_aliases() -> list[str]:
    from knowledge_base.defaults import load_default_procedures

    birth = next(p for p in load_default_procedures() if p.code == "1.001193")
    assert birth.aliases, "the default birth registration file names how citizens call it"
    return birth.aliases


@pytest.mark.parametrize("defaults_first", [True, False], ids=["defaults-then-import", "import-then-defaults"])
def test_the_default_text_wins_and_the_catalogue_record_is_kept_beside(database_url, tmp_path, defaults_first):
    from knowledge_base.defaults import load_default_procedures
    from knowledge_base.sync import sync_defaults

    path = _write_jsonl(tmp_path / "c.jsonl", [json.dumps(RECORD, ensure_ascii=False)])
    steps = [lambda: sync_defaults(database_url), lambda: import_dichvucong(database_url, path)]
    for step in steps if defaults_first else reversed(steps):
        step()
    default = next(p for p in load_default_procedures() if p.code == "1.001193")
    with session_scope(database_url) as session:
        procedure = get_procedure(session, "1.001193")
        row = session.scalar(select(ProcedureRow).where(ProcedureRow.code == "1.001193"))
        source, version, catalogue = row.source, row.version, row.catalogue_data
    # The centre's own words, not the catalogue's ...
    assert source == "default"
    assert procedure.name == default.name
    assert [d.name for d in procedure.documents] == [d.name for d in default.documents]
    # ... the catalogue's record kept beside them ...
    assert catalogue["name"] == "Thủ tục đăng ký khai sinh"
    assert [d["name"] for d in catalogue["documents"]] == ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"]
    # ... with every everyday name of the default file kept for search.
    assert set(_default_birth_aliases()) <= set(procedure.aliases)
    # A restart (defaults again) and a re-import change nothing more.
    assert sync_defaults(database_url).updated == 0
    assert import_dichvucong(database_url, path).unchanged == 1
    with session_scope(database_url) as session:
        assert session.scalar(select(ProcedureRow.version).where(ProcedureRow.code == "1.001193")) == version
