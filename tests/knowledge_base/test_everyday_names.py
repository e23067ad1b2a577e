"""Everyday names for the commune catalogue: valid data, applied on import, staff edits kept."""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections import defaultdict
from pathlib import Path

import pytest

from knowledge_base.everyday_names import everyday_names, load_everyday_name_entries
from knowledge_base.importer import import_dichvucong
from knowledge_base.store import get_procedure, save_procedure
from motcua.db import session_scope

# Catalogue records that are one procedure published under several codes (same name,
# same text): they deliberately share their everyday names. Nothing else may share one.
DUPLICATE_RECORDS: tuple[frozenset[str], ...] = (
    # «Công bố Danh mục … Hà Tĩnh»: each is the trợ cấp thanh niên xung phong procedure.
    frozenset({"2.001428", "3.000226", "3.000243", "3.000244", "3.000246", "3.000283", "3.000331"}),
    # «Hỗ trợ phát triển sản xuất cộng đồng.» published ten times.
    frozenset({"1.014208", "2.001709", "3.000224", "3.000272", "3.000274", "3.000284", "3.000285",
               "3.000286", "3.000332", "1.002544"}),
)

MARRIAGE_ABROAD = {
    "ma_thu_tuc": "2.000806", "ten_thu_tuc": "Thủ tục đăng ký kết hôn có yếu tố nước ngoài",
    "cap_thuc_hien": "Cấp xã", "linh_vuc": "Hộ tịch",
    "cach_thuc_thuc_hien": "Hình thức nộpThời gianPhí, lệ phíMô tảTrực tiếp15 Ngày làm việcMiễn phí",
}
BIRTH = {
    "ma_thu_tuc": "1.001193", "ten_thu_tuc": "Thủ tục đăng ký khai sinh", "cap_thuc_hien": "Cấp xã",
    "linh_vuc": "Hộ tịch",
    "cach_thuc_thuc_hien": "Hình thức nộpThời gianPhí, lệ phíMô tảTrực tiếp1 Ngày làm việcMiễn phí",
}


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _write(path: Path, *records: dict) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def test_every_entry_has_a_name_and_two_to_six_aliases():
    entries = load_everyday_name_entries()
    assert len(entries) >= 300
    short = [code for code, e in entries.items() if not 2 <= len(e.aliases) <= 6]
    assert not short, f"need 2–6 aliases: {short}"


def test_every_key_is_a_commune_level_catalogue_code(shared_data):
    with gzip.open(shared_data / "dichvucong_procedures.jsonl.gz", "rt", encoding="utf-8") as lines:
        levels = {r["ma_thu_tuc"]: r.get("cap_thuc_hien") or "" for r in map(json.loads, lines)}
    unknown = [code for code in everyday_names() if code not in levels]
    not_commune = [code for code in everyday_names() if code in levels and "Cấp xã" not in levels[code]]
    assert (unknown, not_commune) == ([], [])


def test_no_alias_names_two_procedures_unless_listed():
    owners: dict[str, set[str]] = defaultdict(set)
    for code, names in everyday_names().items():
        for name in names:
            owners[_fold(name)].add(code)
    shared = {alias: codes for alias, codes in owners.items() if len(codes) > 1}
    undeclared = {alias: sorted(codes) for alias, codes in shared.items()
                  if not any(codes <= group for group in DUPLICATE_RECORDS)}
    assert undeclared == {}


def test_the_declared_duplicates_are_the_same_catalogue_record(shared_data):
    with gzip.open(shared_data / "dichvucong_procedures.jsonl.gz", "rt", encoding="utf-8") as lines:
        records = {r["ma_thu_tuc"]: r for r in map(json.loads, lines)}
    for group in DUPLICATE_RECORDS:
        texts = {(records[c]["ten_thu_tuc"], records[c]["trinh_tu_thuc_hien"]) for c in group}
        assert len(texts) == 1, sorted(group)


def test_a_mistake_in_the_file_is_reported_with_the_file_name(tmp_path):
    (tmp_path / "a.yaml").write_text('"1.001193": {name: làm khai sinh, aliases: [giấy ks]}\n', encoding="utf-8")
    (tmp_path / "b.yaml").write_text('"1.001193": {name: khai sinh, aliases: [con mới sinh]}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="b.yaml.*1.001193.*a.yaml"):
        load_everyday_name_entries(tmp_path)
    (tmp_path / "b.yaml").write_text('"1.1193": {name: khai sinh}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="b.yaml"):
        load_everyday_name_entries(tmp_path)
    (tmp_path / "b.yaml").write_text('"1.000894": {name: kết hôn, alias: [cưới]}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="khóa lạ"):
        load_everyday_name_entries(tmp_path)


def test_the_import_stores_the_everyday_name_first(database_url, tmp_path):
    import_dichvucong(database_url, _write(tmp_path / "c.jsonl", MARRIAGE_ABROAD))
    with session_scope(database_url) as session:
        procedure = get_procedure(session, "2.000806")
    assert procedure.name == "Thủ tục đăng ký kết hôn có yếu tố nước ngoài"
    assert procedure.aliases == everyday_names()["2.000806"]
    assert "lấy chồng nước ngoài" in procedure.aliases


def test_a_staff_edit_of_the_aliases_survives_a_reimport(database_url, tmp_path):
    path = _write(tmp_path / "c.jsonl", MARRIAGE_ABROAD)
    import_dichvucong(database_url, path)
    with session_scope(database_url) as session:
        edited = dataclasses.replace(get_procedure(session, "2.000806"), aliases=["cưới người nước ngoài"])
        save_procedure(session, edited, actor="staff:an", staff_edit=True)
    report = import_dichvucong(database_url, path)
    assert report.kept_staff_edits == 1
    with session_scope(database_url) as session:
        assert get_procedure(session, "2.000806").aliases == ["cưới người nước ngoài"]


@pytest.mark.parametrize("defaults_first", [True, False], ids=["defaults-then-import", "import-then-defaults"])
def test_the_default_files_come_before_the_everyday_names(database_url, tmp_path, defaults_first):
    from knowledge_base.defaults import load_default_procedures
    from knowledge_base.sync import sync_defaults

    path = _write(tmp_path / "c.jsonl", BIRTH)
    steps = [lambda: sync_defaults(database_url), lambda: import_dichvucong(database_url, path)]
    for step in steps if defaults_first else reversed(steps):
        step()
    default_aliases = next(p for p in load_default_procedures() if p.code == "1.001193").aliases
    with session_scope(database_url) as session:
        aliases = get_procedure(session, "1.001193").aliases
    assert aliases[: len(default_aliases)] == default_aliases
    assert {_fold(a) for a in everyday_names()["1.001193"]} <= {_fold(a) for a in aliases}
    # Restart and re-import are both no-ops.
    assert sync_defaults(database_url).updated == 0
    assert import_dichvucong(database_url, path).unchanged == 1
