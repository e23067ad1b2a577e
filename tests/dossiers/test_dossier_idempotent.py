"""Filing is idempotent: a retried action, a double tap, a retried desk request file one dossier.

The chat's key is the conversation and the form session (made when the form starts); the desk's
the ``Idempotency-Key`` its page sends. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from actions.forms import DeclarationFiler, FormCatalog
from bot.app import create_app
from bot.deps import get_dossier_service
from knowledge_base.messages import render
from motcua.db import session_scope
from motcua.dossiers import filing
from motcua.dossiers.filing import FILING_PIN_KEPT, FilingKeyReused, seal_pin, unseal_pin
from motcua.dossiers.links import is_pin
from motcua.dossiers.models import DossierCounter, DossierFilingPin, DossierRow, PortalOutboxRow
from motcua.dossiers.service import Applicant
from tests.actions.test_form_dialogue import BIRTH, CERTIFY, FORMS, FakeKnowledge, FormLoop
from tests.dossiers.support import STAFF_PASSWORD, add_staff, application, gateway_settings

KEY = "chat:telegram:42:0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def count(url: str, table=DossierRow) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def found(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in {text!r}"
    return match[1]


def pin_of(text: str) -> str:
    return found(r"Mã tra cứu: (\d{6})", text)


@pytest.fixture
def filer(service, db) -> DeclarationFiler:
    return DeclarationFiler(service, db, "https://motcua.example")


async def filled_form(filer: DeclarationFiler, sender: str = "telegram:42") -> FormLoop:
    """A birth declaration answered up to its summary, in the conversation ``sender``."""
    loop = FormLoop(FormCatalog(FORMS, FakeKnowledge([BIRTH, CERTIFY])), filer, sender=sender)
    await loop.start("tôi muốn điền tờ khai khai sinh", [{"entity": "procedure", "value": "đăng ký khai sinh"}])
    await loop.answer_until()
    assert loop.slots["form_stage"] == "summary"
    return loop


# --- the chat -------------------------------------------------------------------------------


async def test_a_retried_filing_action_files_one_dossier_and_repeats_the_first_answer(filer, catalogue):
    loop = await filled_form(filer)
    session = loop.slots["form_outcome"]["session"]
    assert re.fullmatch(r"[0-9a-f]{32}", session)
    before = dict(loop.slots)  # what Rasa holds when the action server's answer never reaches it
    first = "\n".join(m.get("text") or "" for m in await loop.say("/affirm", "affirm", 1.0))
    loop.slots, loop.active = dict(before), True  # Rasa calls again with the same tracker
    again = "\n".join(m.get("text") or "" for m in await loop.say("/affirm", "affirm", 1.0))

    code = found(r"Mã số hồ sơ: (\S+)", first)
    assert found(r"Mã số hồ sơ: (\S+)", again) == code
    assert pin_of(again) == pin_of(first)  # the same PIN: the first answer, word for word, but the link
    assert again.split("https://")[0] == first.split("https://")[0]
    assert count(catalogue) == 1 and count(catalogue, PortalOutboxRow) == 1
    with session_scope(catalogue) as tx:
        row = tx.scalar(select(DossierRow))
        assert is_pin(row.lookup_pin_hash, pin_of(first))
        assert row.filing_key == filing.filing_key_hash(f"chat:telegram:42:{session}")
        assert session not in row.filing_key  # only the key's hash is stored


async def test_a_new_form_session_files_a_new_dossier_even_with_the_same_answers(filer, catalogue):
    first = await filled_form(filer)
    session = first.slots["form_outcome"]["session"]
    await first.say("/affirm", "affirm", 1.0)
    second = await filled_form(filer)  # the same conversation declares the same again, on purpose
    assert second.slots["form_outcome"]["session"] != session
    await second.say("/affirm", "affirm", 1.0)
    with session_scope(catalogue) as tx:
        codes = tx.scalars(select(DossierRow.code).order_by(DossierRow.seq)).all()
    assert len(codes) == 2 and codes[0] != codes[1]


async def test_a_retry_after_the_pin_was_let_go_says_so_and_where_to_get_a_new_one(filer, catalogue, clock):
    loop = await filled_form(filer)
    before = dict(loop.slots)
    first = "\n".join(m.get("text") or "" for m in await loop.say("/affirm", "affirm", 1.0))
    clock.advance(minutes=61)
    loop.slots, loop.active = dict(before), True
    again = "\n".join(m.get("text") or "" for m in await loop.say("/affirm", "affirm", 1.0))
    assert found(r"Mã số hồ sơ: (\S+)", again) == found(r"Mã số hồ sơ: (\S+)", first)
    assert "Mã tra cứu:" not in again and render("dossier.filed.pin_not_shown") in again
    assert count(catalogue) == 1 and count(catalogue, DossierFilingPin) == 0  # the sealed PIN is gone


# --- the service ----------------------------------------------------------------------------


def test_the_same_key_twice_gives_one_dossier_and_the_pin_only_while_it_is_kept(service, catalogue, clock, db):
    filed = db.run(service.file_dossier, application(), filing_key=KEY)
    again = db.run(service.file_dossier, application(), filing_key=KEY)
    assert again == filed and again.confirmation_text() == filed.confirmation_text()
    clock.advance(seconds=FILING_PIN_KEPT.total_seconds() - 1)
    assert db.run(service.file_dossier, application(), filing_key=KEY).lookup_pin == filed.lookup_pin
    clock.advance(seconds=1)
    late = db.run(service.file_dossier, application(), filing_key=KEY)
    assert late.code == filed.code and late.lookup_pin == ""
    other = db.run(service.file_dossier, application(), filing_key=KEY + "-2")
    assert other.code != filed.code and other.lookup_pin
    assert count(catalogue) == 2
    plain = db.run(service.file_dossier, application())  # no key: filed as before, every time
    with session_scope(catalogue) as tx:
        assert tx.scalar(select(DossierRow.filing_key).where(DossierRow.code == plain.code)) is None
    assert count(catalogue, DossierFilingPin) == 1  # the expired one was swept by the later filings


def test_the_key_with_another_application_is_refused_and_files_nothing(service, catalogue, db):
    filed = db.run(service.file_dossier, application(), filing_key=KEY)
    changed = application(applicant=Applicant("Nguyễn Thị Lan", "001190012345", "0987654321"))
    with pytest.raises(FilingKeyReused) as refused:
        db.run(service.file_dossier, changed, filing_key=KEY)
    assert refused.value.code == filed.code and refused.value.kind == "conflict"
    assert str(refused.value) == render("dossier.filing_key_reused", code=filed.code)
    assert count(catalogue) == 1


def test_two_threads_filing_with_the_same_key_at_once_make_one_dossier(service, catalogue, db):
    start, codes, errors = threading.Barrier(8), [], []

    def file_one() -> None:
        try:
            start.wait(10)
            codes.append(db.run(service.file_dossier, application(), filing_key=KEY).code)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=file_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(codes) == 8 and len(set(codes)) == 1
    assert count(catalogue) == 1 and count(catalogue, PortalOutboxRow) == 1


def test_a_racing_duplicate_meets_the_unique_index_and_answers_the_winner(service, catalogue, monkeypatch, db):
    """The loser looked before the winner committed: its insert fails, its number is given back."""
    filed = db.run(service.file_dossier, application(), filing_key=KEY)
    looked: list[str] = []
    real = filing.filed_with

    def late_look(session, key):
        looked.append(key)
        return None if len(looked) == 1 else real(session, key)

    monkeypatch.setattr(filing, "filed_with", late_look)
    again = db.run(service.file_dossier, application(), filing_key=KEY)
    assert len(looked) == 2 and again.code == filed.code and again.lookup_pin == filed.lookup_pin
    monkeypatch.undo()
    with session_scope(catalogue) as tx:
        assert tx.scalar(select(DossierCounter.last_seq)) == 1  # the loser's number went back
    assert db.run(service.file_dossier, application()).code.endswith("-0002")
    assert count(catalogue) == 2


def test_a_sealed_pin_comes_back_only_with_its_key():
    sealed = seal_pin("004271", KEY)
    assert re.fullmatch(r"\d{6}", sealed) and sealed != "004271"
    assert unseal_pin(sealed, KEY) == "004271"
    assert unseal_pin(sealed, KEY + "-other") != "004271"


# --- the desk -------------------------------------------------------------------------------


@pytest.fixture
def staff(tmp_path, catalogue, service):
    add_staff(catalogue)
    app = create_app(gateway_settings(tmp_path, catalogue))
    app.dependency_overrides[get_dossier_service] = lambda: service
    with TestClient(app) as client:
        response = client.post("/api/v1/staff/login", json={"username": "thuha", "password": STAFF_PASSWORD})
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.cookies["motcua_csrf"]
        yield client


def test_the_desk_sending_the_same_key_twice_files_one_dossier(staff, catalogue):
    body = {"procedure_code": "1.004194", "applicant_name": "Trần Văn Bình", "applicant_cccd": "001090054321"}
    key = {"Idempotency-Key": "desk-form-3f6b0c2a-8d41-4e7a-9c55-1b2f3a4d5e6f"}
    first = staff.post("/api/v1/staff/dossiers", json=body, headers=key)
    again = staff.post("/api/v1/staff/dossiers", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and first.json()["lookup_pin"]
    assert count(catalogue) == 1
    changed = staff.post("/api/v1/staff/dossiers", json={**body, "applicant_phone": "0912345678"}, headers=key)
    assert changed.status_code == 409 and first.json()["code"] in changed.json()["detail"]
    fresh = staff.post("/api/v1/staff/dossiers", json=body, headers={"Idempotency-Key": "desk-form-another-one"})
    assert fresh.status_code == 201 and fresh.json()["code"] != first.json()["code"]
    bad = staff.post("/api/v1/staff/dossiers", json=body, headers={"Idempotency-Key": "short"})
    assert bad.status_code == 422
    assert count(catalogue) == 2
