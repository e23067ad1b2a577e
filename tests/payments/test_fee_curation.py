"""The center's fee table edited by staff (/api/v1/kb/fees, SQLite and PostgreSQL): amounts checked with
Vietnamese errors, every change a revision (revertible) and an audit row (who, when, old → new); the
table in force is the YAML seed with the edits over it; and a dossier's fee is fixed when it is filed."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from knowledge_base import curation
from knowledge_base.curation import Conflict, EntityKind, Invalid, NotFound
from knowledge_base.fee_table import check_amounts, default_fee_table, rule_amounts, rule_key
from motcua.db import session_scope, shared_database
from motcua.dossiers.notifications import MemoryNotifier
from motcua.dossiers.service import DossierService
from motcua.payments.models import DossierPayment, DossierPaymentEvent
from motcua.payments.service import PaymentService
from motcua.payments.statement import read_statement
from motcua.staff.models import AuditEntry
from tests.bot.test_curation_api import curation_settings
from tests.dossiers.support import AGENCY, application, gateway_settings
from tests.payments.conftest import seed_payment_procedures
from tests.staff.conftest import PASSWORD, sign_in

LATE_BIRTH = "1.001193~birth_child_birth_date~60"
REBIRTH = "1.004884"
LATE = {"birth_child_name": "Nguyễn Minh An", "birth_child_birth_date": date(2020, 5, 1)}


# --- what staff type ------------------------------------------------------------------------------


def test_amounts_are_whole_dong_not_negative_with_clear_vietnamese_errors():
    assert check_amounts(8000) == {"amount": 8000}
    assert check_amounts("8.000", {"truc_tuyen": "4 000", "buu_chinh": ""}) == {"amount": 8000,
                                                                               "amount_truc_tuyen": 4000}
    assert check_amounts(0) == {"amount": 0}  # 0: nothing to collect
    refusals = {-5: "không được âm", "abc": "cần một số đồng nguyên", 8.5: "không có phần lẻ", None: "chưa nhập",
                "8.5": "cần một số đồng nguyên", True: "cần một số đồng nguyên", 10**10: "quá lớn"}
    for typed, said in refusals.items():
        with pytest.raises(ValueError, match=said):
            check_amounts(typed)
    with pytest.raises(ValueError, match="Số tiền khi nộp trực tuyến không được âm"):
        check_amounts(8000, {"truc_tuyen": -1})
    with pytest.raises(ValueError, match="Cách nộp «qua_mang» không có"):
        check_amounts(8000, {"qua_mang": 1})


def test_only_digits_0_to_9_count_fullwidth_ones_too_and_a_huge_amount_is_not_echoed():
    assert check_amounts("８０００") == {"amount": 8000} and check_amounts("８．０００ đ") == {"amount": 8000}
    for typed in ("²", "8²", "².000", "٨٠٠٠", "①"):  # digit-like to Python, not an amount
        with pytest.raises(ValueError, match="cần một số đồng nguyên") as refused:
            check_amounts(typed)
        assert "invalid literal" not in str(refused.value)
    for typed in (1e30, 10**30, "9" * 5000, "1" + ".000" * 10):
        with pytest.raises(ValueError, match=r"quá lớn \(hơn 1\.000\.000\.000 đồng\)") as refused:
            check_amounts(typed)
        assert len(str(refused.value)) < 80
    with pytest.raises(ValueError, match="không phải «x{24}…»"):
        check_amounts("x" * 500)  # what was typed is quoted back, cut short


def test_every_rule_of_the_yaml_has_a_key_and_its_amounts():
    table = default_fee_table()
    assert [rule_key(rule) for rule in table.rules][:3] == [LATE_BIRTH, "1.000656~death_date~15", REBIRTH]
    assert rule_amounts(table.rule(REBIRTH)) == {"amount": 8000, "amount_truc_tuyen": 4000}
    edited = table.with_amounts({REBIRTH: {"amount": 9000}, "no-such-rule": {"amount": 1}})
    assert edited.rule(REBIRTH).amount == 9000 and edited.rule(REBIRTH).amounts == {}
    assert edited.rule(LATE_BIRTH) == table.rule(LATE_BIRTH) and len(edited.rules) == len(table.rules)


# --- the API --------------------------------------------------------------------------------------


@pytest.fixture
def api(tmp_path, database_url):
    settings = curation_settings(tmp_path, database_url)
    with TestClient(create_app(settings)) as client:
        sign_in(client, "canbo", PASSWORD)
        client.database_url = database_url
        yield client


def _fee(api, key: str) -> dict:
    return next(item for item in api.get("/api/v1/kb/fees").json() if item["key"] == key)


def test_staff_list_the_fee_table_and_change_an_amount_audited_and_versioned(api):
    items = api.get("/api/v1/kb/fees").json()
    assert [item["key"] for item in items] == [rule_key(rule) for rule in default_fee_table().rules]
    birth = _fee(api, LATE_BIRTH)
    assert (birth["amount"], birth["amounts"], birth["version"], birth["staff_edited"]) == \
        (8000, {"truc_tuyen": 4000}, 0, False)
    assert "Đăng ký khai sinh" in birth["procedure_name"] and "quá 60 ngày" in birth["condition"]

    saved = api.put(f"/api/v1/kb/fees/{LATE_BIRTH}", json={
        "amount": "10.000", "amounts": {"truc_tuyen": 5000, "buu_chinh": ""}, "version": 0,
        "reason": "Nghị quyết 12/2026/NQ-HĐND"})
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert (body["version"], body["changed"], body["current"]) == (1, True, {"amount": 10000, "amount_truc_tuyen": 5000})
    assert "hồ sơ đã nộp giữ mức phí" in body["index"]["message"]
    birth = _fee(api, LATE_BIRTH)
    assert (birth["amount"], birth["amounts"], birth["version"], birth["staff_edited"]) == \
        (10000, {"truc_tuyen": 5000}, 1, True)

    with session_scope(api.database_url) as session:  # who, when, old → new
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "kb.fee.update")).one()
        assert (audit.actor, audit.target) == ("canbo", f"fee:{LATE_BIRTH}")
        assert (audit.before, audit.after) == ({"amount": 8000, "amount_truc_tuyen": 4000},
                                               {"amount": 10000, "amount_truc_tuyen": 5000})
        assert audit.created_at is not None
    history = api.get(f"/api/v1/kb/fees/{LATE_BIRTH}/revisions").json()
    assert [(r["version"], r["actor"], r["reason"]) for r in history] == [(1, "canbo", "Nghị quyết 12/2026/NQ-HĐND")]
    assert "Số tiền: 8.000 → 10.000" in history[0]["lines"]
    assert "Số tiền khi nộp trực tuyến: 4.000 → 5.000" in history[0]["lines"]
    assert [r["kind"] for r in api.get("/api/v1/kb/history", params={"kind": "fee"}).json()] == ["fee"]

    unchanged = api.put(f"/api/v1/kb/fees/{LATE_BIRTH}", json={"amount": 10000, "amounts": {"truc_tuyen": 5000},
                                                               "version": 1})
    assert unchanged.json()["changed"] is False and unchanged.json()["version"] == 1

    reverted = api.post(f"/api/v1/kb/fees/{LATE_BIRTH}/revisions/{history[0]['id']}/revert", params={"to": "before"})
    assert reverted.status_code == 200, reverted.text
    assert reverted.json()["current"] == {"amount": 8000, "amount_truc_tuyen": 4000}
    birth = _fee(api, LATE_BIRTH)
    assert (birth["amount"], birth["version"], birth["staff_edited"]) == (8000, 2, False)
    with session_scope(api.database_url) as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "kb.fee.revert")).one()
        assert (audit.before["amount"], audit.after["amount"]) == (10000, 8000)


def test_wrong_amounts_stale_edits_and_unknown_rules_are_refused_in_vietnamese(api):
    url = f"/api/v1/kb/fees/{REBIRTH}"
    for body, said in (({"amount": -5}, "Số tiền không được âm"), ({"amount": "tám nghìn"}, "cần một số đồng nguyên"),
                       ({"amount": 8000.5}, "không có phần lẻ"), ({}, "chưa nhập"),
                       ({"amount": 8000, "amounts": {"truc_tuyen": "-1"}}, "nộp trực tuyến không được âm"),
                       ({"amount": "²"}, "cần một số đồng nguyên"), ({"amount": 1e30}, "quá lớn (hơn 1.000.000.000")):
        refused = api.put(url, json=body)
        assert refused.status_code == 422 and said in refused.json()["detail"], (body, refused.text)
        assert "invalid literal" not in refused.text and not re.search(r"\d{12}", refused.text)
    assert api.put(url, json={"amount": 9000, "version": 0}).status_code == 200
    stale = api.put(url, json={"amount": 9500, "version": 0})
    assert stale.status_code == 409 and "vừa được người khác sửa" in stale.json()["detail"]
    missing = api.put("/api/v1/kb/fees/9.999999", json={"amount": 1})
    assert missing.status_code == 404 and "Bảng phí không có mục" in missing.json()["detail"]
    assert _fee(api, REBIRTH)["amount"] == 9000
    anonymous = TestClient(api.app)
    assert anonymous.get("/api/v1/kb/fees").status_code == 401
    assert anonymous.put(url, json={"amount": 1}).status_code == 401


# --- the table in force, and the price fixed at filing ---------------------------------------------


def test_the_table_in_force_is_the_seed_with_staff_edits(catalogue):
    with session_scope(catalogue) as session:
        assert curation.effective_fee_table(session) == default_fee_table()
        curation.update_fee(session, REBIRTH, 12000, actor="canbo")
        with pytest.raises(Invalid):
            curation.update_fee(session, REBIRTH, -1, actor="canbo")
        with pytest.raises(NotFound):
            curation.update_fee(session, "nope", 1, actor="canbo")
        with pytest.raises(Conflict):
            curation.update_fee(session, REBIRTH, 13000, actor="canbo", expected_version=0)
    with session_scope(catalogue) as session:
        table = curation.effective_fee_table(session)
        assert (table.rule(REBIRTH).amount, table.rule(REBIRTH).amounts) == (12000, {})
        assert [r.version for r in curation.list_revisions(session, EntityKind.FEE, REBIRTH)] == [1]


def test_a_dossier_keeps_the_fee_of_its_filing_when_the_table_changes_later(catalogue, clock, payments):
    db = shared_database(catalogue)
    dossiers = DossierService(agency_code=AGENCY, notifier=MemoryNotifier(), clock=clock,
                                       fees=payments)

    def file() -> str:
        return db.run(dossiers.file_dossier, application(values=LATE, form_id="birth_registration", channel="counter",
                                                 sender_id=""), actor="staff:thuha").code

    before = file()
    with session_scope(catalogue) as session:  # priced in the filing's own transaction
        row = session.scalars(select(DossierPayment).where(DossierPayment.dossier_code == before)).one()
        assert (row.amount, row.state.value) == (8000, "unpaid")
        event = session.scalars(select(DossierPaymentEvent).where(DossierPaymentEvent.dossier_id == row.dossier_id)).one()
        assert event.actor == "staff:thuha"
    with session_scope(catalogue) as session:
        curation.update_fee(session, LATE_BIRTH, 20000, {"truc_tuyen": 10000}, actor="canbo")
    after = file()
    assert db.run(payments.payment, before).amount == 8000  # what it owed when filed
    assert db.run(payments.payment, after).amount == 20000  # the new amount, for what is filed from now on
    report = payments.import_statement(db, read_statement(f"ngày,số tiền,nội dung\n10/03/2026,8000,{before}\n"),
                                       actor="staff:thuha")
    assert [line.outcome.value for line in report.lines] == ["matched"]  # 8.000 still pays it


def test_the_gateway_and_the_action_server_price_a_dossier_as_it_is_filed(tmp_path):
    url = f"sqlite:///{tmp_path / 'wired.sqlite3'}"
    from motcua.db import upgrade_database

    upgrade_database(url)
    seed_payment_procedures(url)
    dossiers = DossierService.from_settings(gateway_settings(tmp_path, url))  # as bot/services and actions/server
    assert isinstance(dossiers.fees, PaymentService)
    db = shared_database(url)
    code = db.run(dossiers.file_dossier, application(values=LATE, form_id="birth_registration")).code
    with session_scope(url) as session:
        assert session.scalars(select(DossierPayment.amount).where(DossierPayment.dossier_code == code)).one() == 4000
    free = db.run(dossiers.file_dossier, application(values={**LATE, "birth_child_birth_date": date.today()},
                                                     form_id="birth_registration")).code
    with session_scope(url) as session:
        state = session.scalars(select(DossierPayment.state).where(DossierPayment.dossier_code == free)).one()
        assert state.value == "none_due"
