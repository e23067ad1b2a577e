"""Whose words win: staff over the centre's files over the catalogue, field by field."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from actions.answers import Aspect, answer
from knowledge_base import curation
from knowledge_base.defaults import load_default_procedures
from knowledge_base.importer import import_dichvucong
from knowledge_base.precedence import compose
from knowledge_base.schema import Procedure, RequiredDocument
from knowledge_base.store import list_procedures
from knowledge_base.sync import sync_defaults
from motcua.db import session_scope, upgrade_database

CATALOGUE = Path(__file__).resolve().parents[3] / "shared" / "data" / "dichvucong_procedures.jsonl.gz"
ASPECTS = [Aspect.OVERVIEW, Aspect.DOCUMENTS, Aspect.FEE, Aspect.TIME, Aspect.SUBMISSION, Aspect.STEPS,
           Aspect.LEGAL_BASIS]
RECORD = {
    "ma_thu_tuc": "1.001193", "ten_thu_tuc": "Thủ tục đăng ký khai sinh", "cap_thuc_hien": "Cấp xã",
    "linh_vuc": "Hộ tịch",
    "cach_thuc_thuc_hien": "Hình thức nộpThời gianPhí, lệ phíMô tảTrực tiếp1Miễn phí",
    "thanh_phan_ho_so": "* Giấy tờ phải nộp:Tên giấy tờMẫu đơn, tờ khaiSố lượngTờ khai đăng ký khai sinh1 bản chính",
}


def test_the_centre_wins_field_by_field_and_the_catalogue_fills_the_gaps():
    center = Procedure(code="1.1", name="Khai sinh", aliases=["giấy ks"], documents=[RequiredDocument("Tờ khai")])
    catalogue = Procedure(code="1.1", name="Thủ tục đăng ký khai sinh", aliases=["khai sinh"], source="dichvucong",
                          documents=[RequiredDocument("Mẫu hộ tịch điện tử")], conditions="Trong 60 ngày.",
                          receiving_agency="Ủy ban nhân dân xã")
    told = compose(center, catalogue)
    assert (told.name, told.source) == ("Khai sinh", "")
    assert [d.name for d in told.documents] == ["Tờ khai"]
    assert (told.conditions, told.receiving_agency) == ("Trong 60 ngày.", "Ủy ban nhân dân xã")
    assert told.aliases == ["giấy ks", "khai sinh"]
    with pytest.raises(ValueError):
        compose(None, None)


def _scratch(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    upgrade_database(url)
    return url


def _answers(url: str) -> dict:
    with session_scope(url) as session:
        procedures = {p.code: p for p in list_procedures(session)}
    return {(p.code, aspect): answer(procedures[p.code], aspect).text
            for p in load_default_procedures() for aspect in ASPECTS}


def test_the_readme_deployment_answers_the_defaults_exactly_as_before_the_import(tmp_path):
    if not CATALOGUE.exists():
        pytest.skip(f"the national catalogue is not here ({CATALOGUE}): ../shared/data is absent")
    url = _scratch(tmp_path)
    sync_defaults(url)
    before = _answers(url)
    codes = {p.code for p in load_default_procedures()}
    subset = tmp_path / "catalogue.jsonl.gz"  # the catalogue's records of the default procedures
    with gzip.open(CATALOGUE, "rt", encoding="utf-8") as source, gzip.open(subset, "wt", encoding="utf-8") as out:
        for line in source:
            if json.loads(line).get("ma_thu_tuc") in codes:
                out.write(line)
    report = import_dichvucong(url, subset)
    assert report.records >= 40 and report.created == 0
    assert _answers(url) == before
    sync_defaults(url)  # a restart
    assert _answers(url) == before


def test_a_revert_to_the_centres_text_is_no_longer_a_staff_edit(tmp_path):
    url = _scratch(tmp_path)
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(RECORD, ensure_ascii=False) + "\n", encoding="utf-8")
    sync_defaults(url)
    import_dichvucong(url, path)
    with session_scope(url) as session:
        data = curation.get_procedure_detail(session, "1.001193").procedure
        curation.update_procedure(session, "1.001193", {**data, "name": "Khai sinh (cán bộ sửa)"}, actor="lan")
    with session_scope(url) as session:
        assert curation.get_procedure_detail(session, "1.001193").staff_edited
        edit = curation.list_revisions(session, "procedure", "1.001193")[0]
        curation.revert(session, "procedure", "1.001193", edit.id, actor="lan", to="before")
    with session_scope(url) as session:
        detail = curation.get_procedure_detail(session, "1.001193")
    assert not detail.staff_edited and detail.procedure == data
    # Not a staff edit any more: a re-import may fill what the centre's text leaves empty again.
    assert import_dichvucong(url, path).kept_staff_edits == 0


def test_the_catalogue_record_is_read_with_the_procedures_and_shared_when_it_says_the_same(tmp_path):
    from knowledge_base.dichvucong import parse_record
    from knowledge_base.store import list_procedures_and_catalogue

    url = _scratch(tmp_path)
    only_portal = {**RECORD, "ma_thu_tuc": "9.999001", "ten_thu_tuc": "Thủ tục chỉ có trên Cổng"}
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (RECORD, only_portal)),
                    encoding="utf-8")
    sync_defaults(url)
    import_dichvucong(url, path)
    with session_scope(url) as session:
        procedures, catalogue = list_procedures_and_catalogue(session)
    by_code = {p.code: p for p in procedures}
    assert set(catalogue) == {"1.001193", "9.999001"}
    # a catalogue-only procedure is its own record: one object, not a copy
    assert catalogue["9.999001"] is by_code["9.999001"]
    # the centre's birth registration differs from the portal's record, which is kept as the portal wrote it
    assert catalogue["1.001193"] != by_code["1.001193"]
    portal = parse_record(RECORD).procedure
    assert (catalogue["1.001193"].name, catalogue["1.001193"].documents) == (portal.name, portal.documents)
