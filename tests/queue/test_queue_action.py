"""``action_issue_queue_number`` with a real Tracker and CollectingDispatcher, no server."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.knowledge import AliasFinder, KnowledgeBase
from actions.queue import ActionIssueQueueNumber
from knowledge_base.messages import render
from knowledge_base.schema import Procedure
from motcua.db import session_scope
from motcua.queue.models import QueueTicket
from motcua.queue.service import QueueService
from motcua.settings import Settings
from tests.queue.queue_fakes import SMALL_CENTRE

COPY = Procedure(code="2.000815", name="Chứng thực bản sao từ bản chính", field="Chứng thực")
BUILD = Procedure(code="1.009999", name="Cấp giấy phép xây dựng", field="Hoạt động xây dựng")


class FakeKnowledge(KnowledgeBase):
    def __init__(self, procedures):
        self._procedures = {p.code: p for p in procedures}
        self.finder = AliasFinder(procedures)


def tracker(sender: str, channel: str | None, slots: dict | None = None, entities: list | None = None) -> Tracker:
    latest = {"text": "cho tôi lấy số", "intent": {"name": "request_queue_number", "confidence": 0.95},
              "entities": entities or [], "metadata": {"channel": channel} if channel else {}}
    return Tracker(sender, slots or {}, latest, [], False, None, {}, "action_listen")


def action(tmp_path, database_url, clock) -> ActionIssueQueueNumber:
    settings = Settings(data_dir=tmp_path, database_url=database_url, public_url="https://motcua.example")
    return ActionIssueQueueNumber(FakeKnowledge([COPY, BUILD]), settings, SMALL_CENTRE,
                                  QueueService(SMALL_CENTRE, clock=clock))


async def run(act, t: Tracker):
    dispatcher = CollectingDispatcher()
    events = await act.run(dispatcher, t, {})
    return dispatcher.messages, events


async def test_the_service_comes_from_the_procedure_field_and_the_reply_says_it_all(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock)
    await run(act, tracker("telegram:1", "telegram", {"procedure_code": "2.000815"}))  # B001
    messages, events = await run(act, tracker("telegram:2", "telegram", {"procedure_code": "2.000815"}))
    assert events == []
    text = messages[0]["text"]
    assert "Ông/bà đã lấy số thành công: B002 — Chứng thực." in text
    assert "Phía trước còn 1 người, thời gian chờ dự kiến khoảng 3 phút." in text  # 1 × 5 min ÷ 2 counters
    assert "còn 3 người phía trước" in text and "nhắn tin" in text
    assert "https://motcua.example/queue/ticket/" in text
    assert messages[0]["buttons"] == [{"title": render("action.queue.button_review", label="B002"),
                                       "payload": '/request_queue_number{"queue_ticket": "B002"}'}]
    custom = messages[0]["custom"]["queue_ticket"]
    assert (custom["label"], custom["people_ahead"], custom["new"]) == ("B002", 1, True)
    with session_scope(database_url) as session:
        row = session.scalar(select(QueueTicket).where(QueueTicket.label == "B002"))
    assert (row.channel, row.sender_id, row.service_code) == ("telegram", "telegram:2", "CT")


async def test_asking_again_shows_the_same_number_instead_of_a_new_one(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock)
    first, _ = await run(act, tracker("zalo:9", "zalo", {"procedure_code": "2.000815"}))
    again, _ = await run(act, tracker("zalo:9", "zalo"))
    assert "B001" in first[0]["text"]
    assert again[0]["text"].startswith("Ông/bà đang giữ số B001 — Chứng thực.")
    with session_scope(database_url) as session:
        assert len(session.scalars(select(QueueTicket)).all()) == 1


async def test_without_a_known_procedure_the_general_service_is_used(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock)
    unknown_field, _ = await run(act, tracker("rest:a", "rest", {"procedure_code": "1.009999"}))
    nothing, _ = await run(act, tracker("web:b", None, entities=[{"entity": "phone_number", "value": "0912345678"}]))
    assert "T001 — Tiếp nhận chung" in unknown_field[0]["text"]
    assert "T002" in nothing[0]["text"]
    with session_scope(database_url) as session:
        row = session.scalar(select(QueueTicket).where(QueueTicket.label == "T002"))
    assert (row.channel, row.phone) == ("web", "0912345678")  # channel from the sender id when metadata lacks it


async def test_at_a_kiosk_each_request_is_a_new_person_not_promised_a_chat_message(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock)
    first, _ = await run(act, tracker("kiosk:s1", "kiosk"))
    second, _ = await run(act, tracker("kiosk:s1", "kiosk"))
    assert "T001" in first[0]["text"] and "nhắn tin" not in first[0]["text"]
    assert "T002" in second[0]["text"]


async def test_a_broken_database_gets_a_polite_apology(tmp_path, clock):
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'missing' / 'x.sqlite3'}")
    act = ActionIssueQueueNumber(FakeKnowledge([]), settings, SMALL_CENTRE, QueueService(SMALL_CENTRE, clock=clock))
    messages, events = await run(act, tracker("telegram:1", "telegram"))
    assert events == [] and "sự cố" in messages[0]["text"]


LLTP = Procedure(code="3.000333", name="Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam", field="Lý lịch tư pháp",
                 aliases=["phiếu lý lịch tư pháp", "xin lý lịch tư pháp"])


def said(text: str) -> Tracker:
    latest = {"text": text, "intent": {"name": "request_queue_number", "confidence": 0.99}, "entities": [],
              "metadata": {"channel": "zalo"}}
    return Tracker("zalo:77", {}, latest, [], False, None, {}, "action_listen")


class Answers:
    def name(self) -> str:
        return "action_answer"

    async def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text="trả lời về thủ tục")
        return []


async def test_a_paper_whose_name_has_phieu_is_asked_about_not_a_number(tmp_path, database_url, clock):
    """«xin phiếu lý lịch tư pháp», read by the NLU as a number: the answering action answers it, no ticket."""
    settings = Settings(data_dir=tmp_path, database_url=database_url, public_url="https://motcua.example")
    act = ActionIssueQueueNumber(FakeKnowledge([COPY, LLTP]), settings, SMALL_CENTRE,
                                 QueueService(SMALL_CENTRE, clock=clock), answer=Answers())
    messages, events = await run(act, said("xin phiếu lý lịch tư pháp"))
    assert [m["text"] for m in messages] == ["trả lời về thủ tục"] and events == []
    asked, _ = await run(act, said("cho tôi lấy số để làm phiếu lý lịch tư pháp"))  # a number, for that paper
    assert "Ông/bà đã lấy số thành công" in asked[0]["text"]
    with session_scope(database_url) as session:
        assert len(session.scalars(select(QueueTicket)).all()) == 1
