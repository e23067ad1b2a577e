"""The whole assistant, for real: Rasa 3.6 with a model trained from nlu_data/, the action
server answering from the knowledge base, and the gateway's kiosk channel."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from sqlalchemy import text
from websockets.sync.client import connect

from actions.answers import Aspect, answer
from knowledge_base.curation.fees import effective_fee_table
from knowledge_base.store import get_procedure
from motcua.db import get_engine, session_scope
from tests.conftest import _postgres_reachable, create_postgres_database, drop_postgres_database
from tests.stack import running_stack, stack_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stack(request, tmp_path_factory):
    database_url = ""
    if request.param == "postgresql":
        reason = _postgres_reachable()
        if reason:
            pytest.skip(f"PostgreSQL không truy cập được, bỏ qua ({reason})")
        database_url = create_postgres_database("motcua_e2e")
    settings = stack_settings(tmp_path_factory.mktemp(f"e2e-{request.param}"), database_url)
    with running_stack(settings) as running:
        yield running
    if request.param == "postgresql":
        drop_postgres_database("motcua_e2e")


class Kiosk:
    """A citizen at the kiosk page: the same websocket frames the page sends."""

    def __init__(self, gateway_port: int, session: str, headers: dict[str, str] | None = None):
        self.ws = connect(f"ws://127.0.0.1:{gateway_port}/ws/kiosk?session={session}", open_timeout=5,
                          additional_headers=headers)
        assert json.loads(self.ws.recv(timeout=5))["type"] == "session"

    def say(self, text: str, payload: str | None = None) -> list[dict]:
        self.ws.send(json.dumps({"type": "message", "text": text, "payload": payload}))
        while True:
            frame = json.loads(self.ws.recv(timeout=10))
            if frame["type"] != "typing":
                return frame["messages"]

    def close(self) -> None:
        self.ws.close()


def _kb_answer(stack, code: str, aspect: str) -> str:
    with session_scope(stack.settings.sqlalchemy_url) as session:
        procedure = get_procedure(session, code)
        rules = effective_fee_table(session).rules_for(code)  # the centre's fee table, said with the fee
    assert procedure is not None, f"default knowledge base lacks {code}"
    return answer(procedure, aspect, fee_rules=rules).text


def test_greeting_then_a_procedure_question_is_answered_from_the_knowledge_base(stack):
    kiosk = Kiosk(stack.settings.gateway_port, "e2e-birth")
    greeting = kiosk.say("xin chào")
    assert greeting and greeting[0]["text"]
    reply = kiosk.say("làm giấy khai sinh cần những giấy tờ gì")
    # The answer is exactly what the knowledge base says, through the custom action.
    assert reply[0]["text"] == _kb_answer(stack, "1.001193", Aspect.DOCUMENTS)
    assert "1.001193" in reply[0]["text"]
    assert any(b["payload"] == "/ask_fee" for b in reply[0]["buttons"])
    # A follow-up without the procedure's name answers for the same procedure.
    fee = kiosk.say("còn lệ phí thì sao?")
    assert fee[0]["text"] == _kb_answer(stack, "1.001193", Aspect.FEE)
    kiosk.close()


def test_the_conversation_is_stored_in_the_tracker_store_of_our_database(stack):
    def counts() -> tuple[int, int]:
        with get_engine(stack.settings.sqlalchemy_url).connect() as connection:
            events = connection.execute(text("SELECT count(*) FROM events WHERE sender_id = 'kiosk:e2e-birth'")).scalar()
            logged = connection.execute(
                text("SELECT count(*) FROM conversation_messages WHERE sender_id = 'kiosk:e2e-birth'")).scalar()
        return events, logged

    deadline = time.monotonic() + 5  # the gateway writes its log in the background
    while counts()[1] < 6 and time.monotonic() < deadline:
        time.sleep(0.1)
    events, logged = counts()
    assert events > 5
    assert logged == 6  # three questions, three answers


def test_a_conversation_survives_a_restart_of_rasa(stack):
    rasa = next(s for s in stack.services if s.name == "rasa")
    rasa.process.terminate()
    rasa.process.wait(timeout=30)
    stack.services = [s for s in stack.services]
    # restart only Rasa, same model, same tracker store
    import subprocess

    rasa.process = subprocess.Popen(rasa.command, env=rasa.env, stdout=open(rasa.log_path, "ab"),
                                    stderr=subprocess.STDOUT, start_new_session=True)
    stack._wait_ready(rasa, time.monotonic() + 180)
    kiosk = Kiosk(stack.settings.gateway_port, "e2e-birth")
    reply = kiosk.say("thế mất bao lâu")
    assert reply[0]["text"] == _kb_answer(stack, "1.001193", Aspect.TIME)
    kiosk.close()


def test_health_reports_every_dependency_up(stack):
    body = httpx.get(f"http://127.0.0.1:{stack.settings.gateway_port}/health", timeout=5).json()
    assert body["status"] == "ok", body
    assert all(check["ok"] for check in body["checks"].values())


def test_with_the_action_server_down_the_citizen_still_gets_a_polite_answer_in_time(stack):
    actions = next(s for s in stack.services if s.name == "action-server")
    actions.process.terminate()
    actions.process.wait(timeout=15)
    started = time.monotonic()
    body = httpx.post(f"http://127.0.0.1:{stack.settings.gateway_port}/api/v1/messages",
                      json={"sender": "e2e-down", "text": "làm giấy khai sinh cần những giấy tờ gì"}, timeout=10).json()
    assert time.monotonic() - started < 2.0
    assert body["outcome"] in {"empty", "busy"}
    assert "Xin lỗi" in body["messages"][0]["text"] or "bận" in body["messages"][0]["text"]
    health = httpx.get(f"http://127.0.0.1:{stack.settings.gateway_port}/health", timeout=5)
    assert health.status_code == 503
    assert health.json()["checks"]["action_server"]["ok"] is False
