"""Abuse through the chat: queue numbers and staff handoffs are bounded per conversation and, for
anonymous clients, per client address — however many sessions one address opens.

The whole road but the NLU, on SQLite and PostgreSQL: the gateway's routes (widget socket, REST,
kiosk socket) → the gateway, which turns the client address into its keyed hash (the origin) →
Rasa's REST webhook, played by a stand-in that runs the real actions (``action_issue_queue_number``,
``action_handoff``) on exactly what it is posted → the queue service and the staff inbox → the
database.
"""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.procedures import ActionHandoff
from actions.queue import ActionIssueQueueNumber
from bot.app import create_app
from bot.dialogue import DialogueReply
from bot.gateway import Gateway, seen_from
from channels.base import BotMessage, UserMessage
from knowledge_base.messages import render
from motcua.db import session_scope
from motcua.devices import add_device
from motcua.origin import METADATA_KEY, origin_in
from motcua.queue.models import QueueTicket
from motcua.queue.service import QueueService
from motcua.settings import Settings
from motcua.staff.models import HandoffConversation, HandoffStatus
from tests.queue.queue_fakes import MORNING, SMALL_CENTRE, Clock
from tests.queue.test_chat_limits import NoProcedures
from tests.servers import free_port, serve_in_thread

FLOODER = ("203.0.113.7", 5000)
NEIGHBOUR = ("203.0.113.8", 5000)


def rasa_running_actions(settings: Settings, clock: Clock) -> FastAPI:
    """Rasa's REST webhook answering as the assistant would once NLU has read the message: «/request_human»
    runs the handoff action, anything else the queue number's; the replies as Rasa's REST channel sends
    them (a message's custom data as an element of its own)."""
    queue = ActionIssueQueueNumber(NoProcedures(), settings, SMALL_CENTRE, QueueService(SMALL_CENTRE, clock=clock))
    handoff = ActionHandoff.from_settings(settings)
    app = FastAPI()
    app.state.received = []

    @app.post("/webhooks/rest/webhook")
    async def webhook(request: Request):
        body = await request.json()
        app.state.received.append(body)
        human = body["message"] == "/request_human"
        latest = {"text": body["message"], "entities": [], "metadata": body.get("metadata") or {},
                  "intent": {"name": "request_human" if human else "request_queue_number", "confidence": 1.0}}
        dispatcher = CollectingDispatcher()
        tracker = Tracker(body["sender"], {}, latest, [], False, None, {}, "action_listen")
        await (handoff if human else queue).run(dispatcher, tracker, {})
        out = []
        for message in dispatcher.messages:
            out.append({"recipient_id": body["sender"], "text": message.get("text"),
                        "buttons": message.get("buttons") or []})
            if message.get("custom"):
                out.append({"recipient_id": body["sender"], "custom": message["custom"]})
        return out

    return app


@pytest.fixture
def stack(tmp_path, database_url):
    """(gateway app, its settings, the Rasa stand-in) over the test database."""
    clock = Clock(MORNING)
    settings = Settings(data_dir=tmp_path, database_url=database_url, public_url="https://motcua.example",
                        action_url=f"http://127.0.0.1:{free_port()}/webhook", rasa_timeout_s=10.0,
                        chat_tickets_per_sender=3, chat_tickets_per_address=10, handoffs_per_address=3)
    rasa = rasa_running_actions(settings, clock)
    with serve_in_thread(rasa) as rasa_url:
        settings = settings.model_copy(update={"rasa_url": rasa_url})
        yield create_app(settings), settings, rasa


def said(ws, text: str) -> str:
    ws.send_text(json.dumps({"type": "message", "text": text, "client_origin": "0" * 32,
                             "metadata": {METADATA_KEY: "0" * 32}}))  # a forged origin is never believed
    while True:
        frame = json.loads(ws.receive_text())
        if frame["type"] != "typing":
            return "\n".join(m["text"] for m in frame["messages"] if m.get("text"))


def widget(client: TestClient, session: str, text: str = "cho tôi lấy số") -> str:
    with client.websocket_connect(f"/ws/widget?session={session}") as ws:
        ws.receive_text()  # the session frame
        return said(ws, text)


def kiosk(client: TestClient, session: str, texts: tuple[str, ...] = ("cho tôi lấy số",),
          headers: dict[str, str] | None = None) -> list[str]:
    with client.websocket_connect(f"/ws/kiosk?session={session}", headers=headers or {}) as ws:
        ws.receive_text()
        return [said(ws, text) for text in texts]


def numbers(database_url) -> list[QueueTicket]:
    with session_scope(database_url) as session:
        rows = list(session.scalars(select(QueueTicket).order_by(QueueTicket.id)))
        session.expunge_all()
    return rows


def test_twelve_numbers_asked_from_one_widget_address_stop_at_its_limit(stack, database_url):
    app, _, rasa = stack
    with TestClient(app, client=FLOODER) as flooder:
        replies = [widget(flooder, f"flood-session-{i:02d}") for i in range(12)]
    assert [r for r in replies if "đã lấy số thành công" in r] == replies[:10]
    assert replies[10] == replies[11] == render("queue.limit_address", count=10, window=60, wait=60)
    with TestClient(app, client=NEIGHBOUR) as neighbour:  # another address is not held back
        assert "T011" in widget(neighbour, "neighbour-session")
    rows = numbers(database_url)
    assert len(rows) == 11 and len({t.sender_id for t in rows}) == 11
    flood_origin = rows[0].origin
    assert flood_origin and {t.origin for t in rows[:10]} == {flood_origin} and rows[10].origin != flood_origin
    assert flood_origin != "0" * 32 and "203.0.113" not in flood_origin  # the gateway's hash, never the address
    sent = [origin_in(body["metadata"]) for body in rasa.state.received]
    assert sent[:12] == [flood_origin] * 12


def test_rest_clients_of_one_address_share_its_limit_with_the_widget(stack, database_url):
    app, _, _ = stack
    with TestClient(app, client=FLOODER) as flooder:
        for i in range(6):
            widget(flooder, f"widget-session-{i}")
        answers = [flooder.post("/api/v1/messages", json={"sender": f"rest-{i}", "text": "lấy số"}).json()
                   for i in range(6)]
    texts = ["\n".join(m["text"] for m in a["messages"] if m.get("text")) for a in answers]
    assert texts[4] == texts[5] == render("queue.limit_address", count=10, window=60, wait=60)
    assert len(numbers(database_url)) == 10


def test_an_enrolled_kiosk_is_not_limited_by_its_address_only_each_session(stack, database_url):
    app, _, _ = stack
    with session_scope(database_url) as session:
        _, key = add_device(session, "kiosk-sanh-a", "kiosk", actor="test")
    enrolled = {"X-Device-Key": key}
    with TestClient(app, client=FLOODER) as hall:
        for i in range(12):  # twelve citizens one after another at the same kiosk
            assert "đã lấy số thành công" in kiosk(hall, f"kiosk-citizen-{i:02d}", headers=enrolled)[0]
        # one session: three numbers, then the polite refusal (another citizen starts a new session)
        long_session = kiosk(hall, "kiosk-one-session", ("lấy số",) * 4, headers=enrolled)
        assert long_session[3] == render("queue.limit_sender", count=3, window=60, wait=60)
        # the same address's anonymous kiosk page is counted by address; the enrolled kiosk's numbers were not
        page = [kiosk(hall, f"kiosk-page-{i:02d}")[0] for i in range(11)]
    assert all("đã lấy số thành công" in text for text in page[:10])
    assert page[10] == render("queue.limit_address", count=10, window=60, wait=60)
    rows = numbers(database_url)
    assert len(rows) == 12 + 3 + 10
    assert {t.origin for t in rows[:15]} == {None} and None not in {t.origin for t in rows[15:]}


def test_a_repeated_handoff_stays_one_and_one_address_hands_over_only_so_many(stack, database_url):
    app, _, _ = stack
    with TestClient(app, client=FLOODER) as flooder:
        first = widget(flooder, "handoff-session-0", "/request_human")
        again = widget(flooder, "handoff-session-0", "/request_human")
        more = [widget(flooder, f"handoff-session-{i}", "/request_human") for i in range(1, 5)]
    with TestClient(app, client=NEIGHBOUR) as neighbour:
        other = widget(neighbour, "handoff-neighbour", "/request_human")
    assert first == render("action.procedures.handoff") == other
    assert again == render("notify.handoff.ack")  # already waiting: the inbox took it
    assert more[:2] == [render("action.procedures.handoff")] * 2
    assert more[2:] == [render("action.procedures.handoff_limited", wait=30)] * 2
    with session_scope(database_url) as session:
        open_ones = session.scalars(select(HandoffConversation.sender_id)
                                    .where(HandoffConversation.status == HandoffStatus.OPEN)).all()
    assert sorted(open_ones) == sorted(["web:handoff-session-0", "web:handoff-session-1", "web:handoff-session-2",
                                        "web:handoff-neighbour"])


async def test_a_handoff_asked_again_while_open_is_the_same_handoff(tmp_path, database_url):
    from motcua.staff.service import open_handoff

    with session_scope(database_url) as session:
        first = open_handoff(session, channel="telegram", sender_id="telegram:77", reason="citizen_request").id
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    action = ActionHandoff.from_settings(settings)
    latest = {"text": "/request_human", "intent": {"name": "request_human"}, "entities": [],
              "metadata": {"channel": "telegram"}}
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, Tracker("telegram:77", {}, latest, [], False, None, {}, "action_listen"), {})
    (message,) = dispatcher.messages
    assert message["text"] == render("action.procedures.handoff_waiting")
    assert message["custom"]["handoff"] is True and message["custom"]["repeat"] is True
    assert {"event": "slot", "name": "handoff", "value": True, "timestamp": None} in events
    with session_scope(database_url) as session:  # the inbox adds to the open thread, never a second one
        assert open_handoff(session, channel="telegram", sender_id="telegram:77").id == first
        assert len(session.scalars(select(HandoffConversation)).all()) == 1


async def test_only_the_gateway_sets_the_origin():
    class Recorder:
        def __init__(self) -> None:
            self.sent: list[UserMessage] = []

        async def send(self, message: UserMessage) -> DialogueReply:
            self.sent.append(message)
            return DialogueReply([BotMessage("ok")])

    dialogue = Recorder()
    gateway = Gateway(dialogue, None, origin_secret="a secret of the installation, long enough")  # type: ignore[arg-type]
    forged = UserMessage("rest", "rest:x", "lấy số", {METADATA_KEY: "f" * 32, "language": "en"})
    await gateway.handle(forged)  # a platform message, or one whose route saw no address: no origin at all
    await gateway.handle(seen_from(forged, "198.51.100.4"))
    await gateway.handle(seen_from(UserMessage("web", "web:y", "lấy số"), "198.51.100.4"))
    await gateway.handle(UserMessage("web", "web:z", "lấy số", {"seen_address": "198.51.100.9"}))  # JSON can't pose
    first, second, third, fourth = (m.metadata for m in dialogue.sent)
    assert first == {"language": "en"}
    assert second[METADATA_KEY] == third[METADATA_KEY] != "f" * 32 and second["language"] == "en"
    assert fourth == {}
    assert json.dumps([m.metadata for m in dialogue.sent])  # what goes to Rasa is plain JSON
    other = Gateway(Recorder(), None, origin_secret="another installation's secret, long enough")  # type: ignore[arg-type]
    assert other._with_origin(seen_from(forged, "198.51.100.4")).metadata[METADATA_KEY] != second[METADATA_KEY]


async def test_a_telegram_or_zalo_chat_looping_to_staff_and_back_opens_only_so_many_conversations():
    """«gặp cán bộ», «quay lại trợ lý ảo», «gặp cán bộ»…: each is a new inbox conversation, so a chat (whose id
    is one person's) hands over ``per_chat`` times a window; a kiosk session (one citizen after another) is
    not counted; the window passes."""
    now = [0.0]
    action = ActionHandoff(per_chat=3, window_s=1800.0, clock=lambda: now[0])  # no inbox: none is open

    async def ask(sender: str, channel: str, intent: str = "request_human") -> str:
        latest = {"text": "gặp cán bộ", "intent": {"name": intent}, "entities": [],
                  "metadata": {"channel": channel}}
        dispatcher = CollectingDispatcher()
        await action.run(dispatcher, Tracker(sender, {}, latest, [], False, None, {}, "action_listen"), {})
        return dispatcher.messages[0]["text"]

    handed, limited = render("action.procedures.handoff"), render("action.procedures.handoff_limited_chat", wait=30)
    assert [await ask("telegram:5", "telegram") for _ in range(4)] == [handed] * 3 + [limited]
    assert await ask("zalo:6", "zalo") == handed  # another person's chat
    assert await ask("telegram:5", "telegram", intent="nlu_fallback") == handed  # the assistant's own handoff
    assert [await ask("kiosk:s1", "kiosk") for _ in range(5)] == [handed] * 5
    now[0] = 1801.0
    assert await ask("telegram:5", "telegram") == handed
