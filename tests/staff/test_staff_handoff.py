"""The web channel's handoff round trip (kiosk websocket, fake Rasa), and what lands on the review list."""

from __future__ import annotations

import json
import shutil
import time

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.deps import get_training_options
from bot.message_log import MessageLog
from bot.services import TrainingOptions
from bot.staff_desk import LEFT_NOTE, RESUMED_TEXT
from knowledge_base.messages import render
from knowledge_base.store import list_faq
from knowledge_base.sync import sync_defaults
from motcua.db import session_scope
from motcua.models import ConversationMessage
from motcua.settings import ROOT
from motcua.staff.models import AuditEntry, UnansweredQuestion
from tests.staff.conftest import CLARIFY_TEXT, HANDOFF_TEXT, PASSWORD, sign_in


class Citizen:
    def __init__(self, client: TestClient, session: str):
        self.ws = client.websocket_connect(f"/ws/kiosk?session={session}").__enter__()
        assert json.loads(self.ws.receive_text())["type"] == "session"

    def say(self, text: str, payload: str | None = None) -> list[dict]:
        self.ws.send_text(json.dumps({"type": "message", "text": text, "payload": payload}))
        assert json.loads(self.ws.receive_text())["type"] == "typing"
        return self.receive()

    def receive(self) -> list[dict]:
        frame = json.loads(self.ws.receive_text())
        assert frame["type"] == "bot", frame
        return frame["messages"]

    def close(self) -> None:
        self.ws.__exit__(None, None, None)


def wait_for(fetch, predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if predicate(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_handoff_round_trip_through_the_kiosk_websocket(staff_app):
    app, settings, rasa = staff_app
    with TestClient(app) as client:
        sign_in(client, "canbo", PASSWORD)
        citizen = Citizen(client, "handoff-1")
        assert citizen.say("xyz cái gì đó")[0]["text"] == CLARIFY_TEXT
        reply = citizen.say("Gặp cán bộ", "/request_human")
        assert reply[0]["text"] == HANDOFF_TEXT
        inbox = wait_for(lambda: client.get("/api/v1/staff/handoffs").json(), lambda items: len(items) == 1)
        assert [(c["sender_id"], c["channel"], c["question"]) for c in inbox] == [("kiosk:handoff-1", "kiosk",
                                                                                    "xyz cái gì đó")]
        conversation = inbox[0]["id"]

        # while with staff, the citizen's words go to the inbox, not to Rasa; the gateway acknowledges them
        sent_to_rasa = len(rasa.state.received)
        acknowledged = citizen.say("Tôi cần hỏi về tranh chấp đất đai")
        assert [(m["text"], m["custom"]) for m in acknowledged] == [(render("notify.handoff.ack"),
                                                                     {"handoff_ack": True})]
        assert acknowledged[0]["text"].startswith("Đã chuyển tới cán bộ")
        assert len(rasa.state.received) == sent_to_rasa
        thread = wait_for(lambda: client.get(f"/api/v1/staff/handoffs/{conversation}").json(),
                          lambda t: len(t["items"]) >= 3)
        assert [(m["direction"], m["text"]) for m in thread["items"]] == [
            ("in", "xyz cái gì đó"), ("bot", HANDOFF_TEXT), ("in", "Tôi cần hỏi về tranh chấp đất đai")]

        # staff reply from the inbox: the citizen sees it on the open page at once
        answer = client.post(f"/api/v1/staff/handoffs/{conversation}/reply",
                             json={"text": "Mời ông/bà đến quầy số 2, cán bộ địa chính sẽ hướng dẫn."})
        assert answer.json() == {"delivered": True, "status": "delivered", "note": "Đã gửi tới người dân."}
        shown = citizen.receive()
        assert shown[0]["text"] == "Cán bộ Nguyễn Văn Cán: Mời ông/bà đến quầy số 2, cán bộ địa chính sẽ hướng dẫn."
        assert shown[0]["custom"] == {"staff": True}  # that staff wrote it; the account stays inside

        # handed back: the citizen is told, and the bot answers again
        assert client.post(f"/api/v1/staff/handoffs/{conversation}/release").json()["released"] is True
        assert citizen.receive()[0]["text"] == RESUMED_TEXT
        assert citizen.say("lệ phí khai sinh")[0]["text"] == "Trợ lý trả lời: lệ phí khai sinh"
        assert rasa.state.received[-1]["message"] == "lệ phí khai sinh"
        assert client.get("/api/v1/staff/handoffs").json() == []
        assert client.post(f"/api/v1/staff/handoffs/{conversation}/reply", json={"text": "muộn"}).status_code == 400
        citizen.close()

        review = wait_for(lambda: client.get("/api/v1/staff/unanswered").json(), lambda rows: len(rows) >= 2)
        assert sorted((q["reason"], q["question"]) for q in review) == [
            ("fallback", "xyz cái gì đó"), ("handoff", "xyz cái gì đó")]

    with session_scope(settings.sqlalchemy_url) as session:
        log = [(m.direction, m.outcome, m.text[:20]) for m in session.scalars(
            select(ConversationMessage).where(ConversationMessage.sender_id == "kiosk:handoff-1")
            .order_by(ConversationMessage.id))]
        audit = [e.action for e in session.scalars(select(AuditEntry))]
    assert ("in", "handoff", "Tôi cần hỏi về tranh") in log
    assert ("out", "staff", "Cán bộ Nguyễn Văn Cán: Mời"[:20]) in log
    assert "handoff.close" in audit


def test_a_handoff_survives_a_gateway_restart(staff_app):
    app, _, rasa = staff_app
    with TestClient(app) as client:
        citizen = Citizen(client, "handoff-2")
        citizen.say("Gặp cán bộ", "/request_human")
        citizen.close()
    with TestClient(app) as client:  # a new lifespan loads open handoffs from the database
        citizen = Citizen(client, "handoff-2")
        before = len(rasa.state.received)
        assert [m["text"] for m in citizen.say("còn đó không")] == [render("notify.handoff.ack")]
        assert len(rasa.state.received) == before
        citizen.close()


def test_a_reply_to_a_kiosk_the_citizen_has_left_is_reported_as_not_delivered(staff_app):
    """The kiosk starts a new session after a while idle: the old session's reply reaches nobody,
    and the inbox says so instead of «Đã gửi tới người dân»; the thread notes the leaving."""
    app, _, _ = staff_app
    with TestClient(app) as client:
        sign_in(client, "canbo", PASSWORD)
        citizen = Citizen(client, "handoff-left")
        citizen.say("Gặp cán bộ", "/request_human")
        conversation = wait_for(lambda: client.get("/api/v1/staff/handoffs").json(), lambda items: len(items) == 1)[0]
        citizen.close()  # the kiosk reset its session: the socket of "handoff-left" is gone
        thread = wait_for(lambda: client.get(f"/api/v1/staff/handoffs/{conversation['id']}").json(),
                          lambda t: any(m["direction"] == "note" for m in t["items"]))
        assert ("note", LEFT_NOTE) in [(m["direction"], m["text"]) for m in thread["items"]]

        answer = client.post(f"/api/v1/staff/handoffs/{conversation['id']}/reply", json={"text": "Ông/bà còn đó không?"})
        assert answer.json() == {"delivered": False, "status": "left",
                                 "note": "Người dân đã rời kiosk — tin nhắn chưa tới được."}

        # the same session comes back (a network blip): replies reach it again, and the thread says so
        back = Citizen(client, "handoff-left")
        answer = client.post(f"/api/v1/staff/handoffs/{conversation['id']}/reply", json={"text": "Mời ông/bà chờ."})
        assert answer.json()["status"] == "delivered"
        assert back.receive()[0]["text"] == render("notify.handoff.staff_reply", name="Nguyễn Văn Cán",
                                                   text="Mời ông/bà chờ.")
        thread = wait_for(lambda: client.get(f"/api/v1/staff/handoffs/{conversation['id']}").json(),
                          lambda t: sum(m["direction"] == "note" for m in t["items"]) == 2)
        assert [m["text"] for m in thread["items"] if m["direction"] == "note"][-1] == "Người dân đã kết nối lại kiosk."
        back.close()


def test_empty_and_busy_replies_and_unhelpful_ratings_land_on_the_review_list(staff_app, tmp_path):
    app, settings, _ = staff_app
    with TestClient(app) as client:
        assert client.post("/api/v1/messages", json={"sender": "r1", "text": "im lặng"}).json()["outcome"] == "empty"
        client.post("/api/v1/messages", json={"sender": "r2", "text": "thủ tục nhận con nuôi"})
        rated = client.post("/api/v1/ratings", json={"kind": "answer", "helpful": False, "channel": "rest",
                                                     "session": "r2", "comment": "không đúng ý"})
        assert rated.status_code == 201 and rated.json()["message"] == "Cảm ơn ông/bà đã đánh giá."
        assert client.post("/api/v1/ratings", json={"kind": "service"}).status_code == 422
        sign_in(client, "canbo", PASSWORD)
        rows = wait_for(lambda: client.get("/api/v1/staff/unanswered").json(), lambda r: len(r) >= 2)
    assert sorted((q["reason"], q["question"]) for q in rows) == [
        ("empty", "im lặng"), ("unhelpful", "thủ tục nhận con nuôi")]


def test_an_unhelpful_rating_keeps_its_question_when_the_message_log_disk_is_slow(staff_app, monkeypatch):
    """The rating can arrive before the rated exchange is on disk; the review list must still get the question."""
    app, settings, _ = staff_app
    original = MessageLog._write

    def slow_write(self, batch):
        time.sleep(0.4)
        original(self, batch)

    monkeypatch.setattr(MessageLog, "_write", slow_write)
    with TestClient(app) as client:
        client.post("/api/v1/messages", json={"sender": "s1", "text": "làm lại sổ hộ nghèo"})
        rated = client.post("/api/v1/ratings", json={"kind": "answer", "helpful": False, "channel": "rest",
                                                     "session": "s1", "comment": "sai rồi"})
        assert rated.status_code == 201
    with session_scope(settings.sqlalchemy_url) as session:
        rows = session.scalars(select(UnansweredQuestion)).all()
        assert [(r.reason, r.question, r.sender_id) for r in rows] == [("unhelpful", "làm lại sổ hộ nghèo", "rest:s1")]


def test_staff_link_train_faq_and_dismiss_with_an_audit_trail(staff_app, tmp_path):
    app, settings, _ = staff_app
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "domain.yml", project / "domain.yml")
    shutil.copytree(ROOT / "nlu_data", project / "nlu_data")
    app.dependency_overrides[get_training_options] = lambda: TrainingOptions(project_root=project)
    sync_defaults(settings.sqlalchemy_url)
    with TestClient(app) as client:
        for text in ("xyz một", "xyz hai", "xyz ba", "xyz bốn"):
            client.post("/api/v1/messages", json={"sender": "q", "text": text})
        sign_in(client, "canbo", PASSWORD)
        rows = wait_for(lambda: client.get("/api/v1/staff/unanswered").json(), lambda r: len(r) == 4)
        ids = {q["question"]: q["id"] for q in rows}
        code = client.get("/api/v1/staff/procedures", params={"q": "khai sinh"}).json()[0]["code"]
        assert {"name": "ask_fee", "label": "Hỏi lệ phí"} in client.get("/api/v1/staff/intents").json()

        linked = client.post(f"/api/v1/staff/unanswered/{ids['xyz một']}/link", json={"procedure_code": code})
        assert linked.json()["status"] == "linked" and linked.json()["procedure_code"] == code
        assert client.post(f"/api/v1/staff/unanswered/{ids['xyz hai']}/link",
                           json={"procedure_code": "0.000"}).status_code == 400

        trained = client.post(f"/api/v1/staff/unanswered/{ids['xyz hai']}/training",
                              json={"intent": "ask_fee", "text": "lệ phí [làm] giấy khai sinh cho con thứ hai"})
        assert trained.json()["status"] == "training"
        staff_file = settings.staff_nlu_file
        assert staff_file.is_relative_to(settings.data_dir)
        assert {p.name for p in (project / "nlu_data").iterdir()} == {p.name for p in (ROOT / "nlu_data").iterdir()}
        assert "  - intent: ask_fee" not in staff_file.read_text()
        assert "- intent: ask_fee\n  examples: |\n    - lệ phí làm giấy khai sinh cho con thứ hai\n" in \
            staff_file.read_text()
        duplicate = client.post(f"/api/v1/staff/unanswered/{ids['xyz ba']}/training",
                                json={"intent": "greet", "text": "lệ phí làm giấy khai sinh cho con thứ hai"})
        assert duplicate.status_code == 400 and "đã có" in duplicate.json()["detail"]
        assert client.post(f"/api/v1/staff/unanswered/{ids['xyz ba']}/training",
                           json={"intent": "khong_co"}).status_code == 400

        faq = client.post(f"/api/v1/staff/unanswered/{ids['xyz ba']}/faq",
                          json={"question": "Trung tâm có chỗ gửi xe máy không?", "answer": "Có, ở sân sau, miễn phí.",
                                "procedure_codes": []})
        assert faq.json()["status"] == "faq"
        assert client.post(f"/api/v1/staff/unanswered/{ids['xyz bốn']}/dismiss").json()["status"] == "dismissed"
        assert client.get("/api/v1/staff/unanswered").json() == []
        assert len(client.get("/api/v1/staff/unanswered", params={"status": "all"}).json()) == 4
        assert client.post("/api/v1/staff/unanswered/999/dismiss").status_code == 404

    with session_scope(settings.sqlalchemy_url) as session:
        assert ("Trung tâm có chỗ gửi xe máy không?", "Có, ở sân sau, miễn phí.") in \
            [(f.question, f.answer) for f in list_faq(session)]
        audit = [(e.actor, e.action) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    for action in ("unanswered.link", "nlu.add_example", "unanswered.training", "faq.add", "unanswered.faq",
                   "unanswered.dismiss"):
        assert ("canbo", action) in audit


def test_the_citizen_goes_back_to_the_assistant_without_waiting_for_staff(staff_app):
    """Out of hours or at a busy desk nobody may answer: every acknowledgement offers «Quay lại trợ lý ảo»; the
    tap closes the conversation with a note for staff, and the next question goes to the assistant again."""
    from bot.staff_desk import BACK_NOTE
    from motcua.staff.service import BACK_PAYLOAD

    app, settings, rasa = staff_app
    with TestClient(app) as client:
        sign_in(client, "canbo", PASSWORD)
        citizen = Citizen(client, "handoff-back")
        assert citizen.say("Gặp cán bộ", "/request_human")[0]["text"] == HANDOFF_TEXT
        conversation = wait_for(lambda: client.get("/api/v1/staff/handoffs").json(), lambda rows: len(rows) == 1)[0]
        ack = citizen.say("có ai không ạ")
        assert ack[0]["buttons"] == [{"title": render("button.back_to_assistant"), "payload": BACK_PAYLOAD}]
        sent_to_rasa = len(rasa.state.received)

        back = citizen.say(render("button.back_to_assistant"), BACK_PAYLOAD)
        assert [m["text"] for m in back] == [render("notify.handoff.back")]
        assert citizen.say("lệ phí khai sinh")[0]["text"] == "Trợ lý trả lời: lệ phí khai sinh"
        assert [b["message"] for b in rasa.state.received[sent_to_rasa:]] == ["lệ phí khai sinh"]  # not the tap
        # a late tap on an old button after that is answered the same, never sent to Rasa
        assert [m["text"] for m in citizen.say("Quay lại trợ lý ảo", BACK_PAYLOAD)] == [render("notify.handoff.back")]
        assert len(rasa.state.received) == sent_to_rasa + 1
        citizen.close()

        assert wait_for(lambda: client.get("/api/v1/staff/handoffs").json(), lambda rows: rows == []) == []
        thread = client.get(f"/api/v1/staff/handoffs/{conversation['id']}").json()
        assert thread["status"] == "closed" and thread["items"][-1]["text"] == BACK_NOTE
        assert client.post(f"/api/v1/staff/handoffs/{conversation['id']}/reply", json={"text": "muộn"}).status_code == 400


def test_typing_back_to_the_assistant_in_a_short_message_works_as_the_button_and_other_words_go_to_staff(staff_app):
    app, _, rasa = staff_app
    with TestClient(app) as client:
        citizen = Citizen(client, "handoff-typed")
        citizen.say("Gặp cán bộ", "/request_human")
        long = "cán bộ ơi lúc nãy tôi hỏi trợ lý rồi mà nó bảo quay lại trợ lý thì mất lịch sử hỏi không ạ"
        assert citizen.say(long)[0]["text"] == render("notify.handoff.ack")  # a message to staff that mentions it
        assert citizen.say("lệ phí khai sinh")[0]["text"] == render("notify.handoff.ack")  # still with staff
        assert citizen.say("thôi không cần nữa, quay lại trợ lý giúp tôi")[0]["text"] == render("notify.handoff.back")
        assert citizen.say("lệ phí khai sinh")[0]["text"] == "Trợ lý trả lời: lệ phí khai sinh"
        citizen.say("Gặp cán bộ", "/request_human")
        assert citizen.say("Quay lai tro ly ao!")[0]["text"] == render("notify.handoff.back")
        citizen.close()
