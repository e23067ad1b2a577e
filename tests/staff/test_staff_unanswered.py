"""The unanswered-questions page's APIs: a procedure search over the whole catalogue (with or
without diacritics, by code), the intents with Vietnamese labels, questions showing them."""

from __future__ import annotations

import pytest
import yaml
from fastapi.testclient import TestClient

from bot.routes.staff import INTENT_LABELS, PICKER_LIMIT, intent_label
from motcua.db import session_scope
from motcua.settings import ROOT
from motcua.staff import service
from tests.staff.catalogue import BIRTH, BIRTH_NAME, EXTRA, seed_catalogue
from tests.staff.conftest import PASSWORD, sign_in


@pytest.fixture
def client(staff_app):
    app, settings, _ = staff_app
    assert seed_catalogue(settings.sqlalchemy_url) > EXTRA
    with TestClient(app) as client:
        sign_in(client, "canbo", PASSWORD)
        yield client


def _codes(client: TestClient, **params) -> list[str]:
    response = client.get("/api/v1/staff/procedures", params=params)
    assert response.status_code == 200, response.text
    return [p["code"] for p in response.json()]


@pytest.mark.parametrize("query", ["khai sinh", "Đăng ký khai sinh", "dang ky khai sinh", "DANG KY KHAI SINH"])
def test_the_picker_finds_the_birth_registration_among_the_whole_catalogue(client, query):
    found = client.get("/api/v1/staff/procedures", params={"q": query}).json()
    assert found[0] == {"code": BIRTH, "name": BIRTH_NAME, "field": found[0]["field"], "levels": found[0]["levels"]}
    assert not [p for p in found if p["code"].startswith("9.")]  # name or alias words, not the padding
    assert len(found) <= PICKER_LIMIT


def test_the_picker_finds_a_procedure_by_code_or_its_beginning(client):
    assert _codes(client, q=BIRTH) == [BIRTH]
    assert _codes(client, q="9.00012", limit=100) == [f"9.{i:06d}" for i in range(120, 130)]


def test_the_picker_returns_at_most_limit_procedures(client):
    assert len(_codes(client)) == PICKER_LIMIT == 20  # an empty query: the first by name
    assert len(_codes(client, q="giay phep", limit=5)) == 5
    assert len(_codes(client, q="giay phep", limit=100)) == 100
    assert client.get("/api/v1/staff/procedures", params={"limit": 101}).status_code == 422
    assert client.get("/api/v1/staff/procedures", params={"limit": 0}).status_code == 422
    assert _codes(client, q="khong co thu tuc nao ten nhu the nay") == []


def test_the_picker_is_for_staff_only(staff_app):
    app, _, _ = staff_app
    with TestClient(app) as anonymous:
        assert anonymous.get("/api/v1/staff/procedures", params={"q": "khai sinh"}).status_code == 401
        assert anonymous.get("/api/v1/staff/intents").status_code == 401


def test_every_intent_of_the_domain_has_a_vietnamese_label(client):
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    names = [i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]]
    intents = client.get("/api/v1/staff/intents").json()
    assert [i["name"] for i in intents] == names
    assert {"name": "ask_fee", "label": "Hỏi lệ phí"} in intents
    for item in intents:
        assert item["label"] == INTENT_LABELS[item["name"]] and item["label"] != item["name"], item
    assert set(INTENT_LABELS) == set(names)  # no label for an intent the domain no longer has
    assert intent_label("an_intent_added_later") == "an_intent_added_later"
    assert intent_label(None) == ""


def test_a_question_shows_the_intent_it_was_trained_under_by_its_label(client, staff_app):
    _, settings, _ = staff_app
    with session_scope(settings.sqlalchemy_url) as session:
        asked = service.record_unanswered(session, channel="web", sender_id="web:1", reply="",
                                          question="làm khai sinh cho cháu nội tốn bao nhiêu tiền", reason="fallback")
        session.flush()
        linked = service.record_unanswered(session, channel="web", sender_id="web:2", reply="",
                                           question="khai sinh ở đâu", reason="fallback")
        session.flush()
        asked_id, linked_id = asked.id, linked.id
    open_rows = client.get("/api/v1/staff/unanswered").json()
    assert len(open_rows) == 2 and {(q["intent"], q["intent_label"]) for q in open_rows} == {("", "")}

    trained = client.post(f"/api/v1/staff/unanswered/{asked_id}/training", json={"intent": "ask_fee"})
    assert trained.status_code == 200, trained.text
    assert (trained.json()["intent"], trained.json()["intent_label"]) == ("ask_fee", "Hỏi lệ phí")
    code = _codes(client, q="dang ky khai sinh")[0]
    link = client.post(f"/api/v1/staff/unanswered/{linked_id}/link", json={"procedure_code": code})
    assert link.json()["procedure_code"] == BIRTH
    done = {q["id"]: q for q in client.get("/api/v1/staff/unanswered", params={"status": "all"}).json()}
    assert done[asked_id]["intent_label"] == "Hỏi lệ phí" and done[linked_id]["status"] == "linked"
