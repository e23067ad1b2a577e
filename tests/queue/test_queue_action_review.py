"""``action_issue_queue_number``: «Xem lại số» shows the number held, and the service is chosen from the words."""

from __future__ import annotations

from rasa_sdk import Tracker
from sqlalchemy import func, select

from actions.queue import ActionIssueQueueNumber, review_payload, service_payload
from knowledge_base.messages import render
from knowledge_base.schema import Procedure
from motcua.db import session_scope
from motcua.queue.config import load_queue_config
from motcua.queue.models import QueueTicket
from motcua.queue.service import QueueService
from motcua.settings import Settings
from tests.queue.queue_fakes import SMALL_CENTRE
from tests.queue.test_queue_action import COPY, FakeKnowledge, run

BIRTH = Procedure(code="1.001193", name="Đăng ký khai sinh", field="Hộ tịch")


def said(sender: str, channel: str, text: str = "cho tôi lấy số", slots: dict | None = None,
         entities: list | None = None) -> Tracker:
    latest = {"text": text, "intent": {"name": "request_queue_number", "confidence": 0.95},
              "entities": entities or [], "metadata": {"channel": channel}}
    return Tracker(sender, slots or {}, latest, [], False, None, {}, "action_listen")


def tapped(sender: str, channel: str, payload: str, entity: str, value: str) -> Tracker:
    return said(sender, channel, payload, entities=[{"entity": entity, "value": value}])


def action(tmp_path, database_url, clock, config=SMALL_CENTRE) -> ActionIssueQueueNumber:
    settings = Settings(data_dir=tmp_path, database_url=database_url, public_url="https://motcua.example")
    return ActionIssueQueueNumber(FakeKnowledge([COPY, BIRTH]), settings, config, QueueService(config, clock=clock))


def labels(database_url) -> list[str]:
    with session_scope(database_url) as session:
        return list(session.scalars(select(QueueTicket.label).order_by(QueueTicket.id)))


def service_of(database_url, label: str) -> str:
    with session_scope(database_url) as session:
        return session.scalar(select(QueueTicket.service_code).where(QueueTicket.label == label))


# --- «Xem lại số» ---------------------------------------------------------------------------------

async def test_tapping_review_three_times_at_a_kiosk_keeps_one_ticket_and_shows_its_wait(tmp_path, database_url,
                                                                                          clock):
    act = action(tmp_path, database_url, clock)
    await run(act, said("kiosk:s2", "kiosk"))  # someone before: T001
    issued, _ = await run(act, said("kiosk:s1", "kiosk"))
    button = issued[0]["buttons"][0]
    assert button == {"title": render("action.queue.button_review", label="T002"), "payload": review_payload("T002")}
    for _ in range(3):
        again, events = await run(act, tapped("kiosk:s1", "kiosk", button["payload"], "queue_ticket", "T002"))
        text = again[0]["text"]
        assert events == []
        assert text.startswith(render("action.queue.holding", label="T002", service="Tiếp nhận chung"))
        assert render("action.queue.status", status=render("status.ticket.waiting")) in text
        assert "Phía trước còn 1 người" in text
        assert again[0]["buttons"] == [button] and again[0]["custom"]["queue_ticket"]["new"] is False
    assert labels(database_url) == ["T001", "T002"]


async def test_review_on_a_chat_channel_issues_nothing_either(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock)
    await run(act, said("zalo:7", "zalo", slots={"procedure_code": COPY.code}))
    for _ in range(3):
        again, _ = await run(act, tapped("zalo:7", "zalo", review_payload("B001"), "queue_ticket", "b001"))
        assert again[0]["text"].startswith(render("action.queue.holding", label="B001", service="Chứng thực"))
    assert labels(database_url) == ["B001"]


async def test_review_of_a_served_number_says_so_and_offers_a_new_one(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock)
    await run(act, said("telegram:5", "telegram"))  # T001
    with session_scope(database_url) as session:
        act.service.call_next(session, 3)
    with session_scope(database_url) as session:
        act.service.finish(session, 3)
    again, _ = await run(act, tapped("telegram:5", "telegram", review_payload("T001"), "queue_ticket", "T001"))
    assert again[0]["text"].startswith(render("action.queue.review_closed", label="T001", service="Tiếp nhận chung",
                                              status=render("status.ticket.done")))
    assert again[0]["buttons"] == [{"title": render("button.request_queue_number"), "payload": "/request_queue_number"}]
    assert labels(database_url) == ["T001"]


async def test_review_of_a_number_someone_else_holds_shows_nothing_and_issues_nothing(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock)
    await run(act, said("web:owner", "web"))  # T001
    other, _ = await run(act, tapped("web:other", "web", review_payload("T001"), "queue_ticket", "T001"))
    assert other[0]["text"] == render("action.queue.review_missing", label="T001")
    assert "/queue/ticket/" not in other[0]["text"]
    assert labels(database_url) == ["T001"]


# --- one number a service -------------------------------------------------------------------------

async def test_asking_again_shows_the_number_of_that_service_and_a_second_service_is_fine(tmp_path, database_url,
                                                                                           clock):
    act = action(tmp_path, database_url, clock)
    await run(act, said("telegram:3", "telegram", "lấy số hộ tịch"))  # A001
    await run(act, said("telegram:3", "telegram", "lấy số chứng thực"))  # B001, another service
    again, _ = await run(act, said("telegram:3", "telegram", "lay so ho tich"))
    assert again[0]["text"].startswith(render("action.queue.holding", label="A001", service="Hộ tịch"))
    plain, _ = await run(act, said("telegram:3", "telegram"))  # no service said: the newest held
    assert plain[0]["text"].startswith(render("action.queue.holding", label="B001", service="Chứng thực"))
    assert labels(database_url) == ["A001", "B001"]


# --- the service from the words -------------------------------------------------------------------

async def test_the_service_named_in_words_with_or_without_diacritics_is_used(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock, load_queue_config())
    for sender, text in [("zalo:1", "lay so chung thuc"), ("zalo:2", "lấy số hộ tịch"),
                         ("zalo:3", "cho tôi số thứ tự làm căn cước"), ("zalo:4", "lay so lam so do"),
                         ("zalo:5", "boc so sao y bang tot nghiep")]:
        await run(act, said(sender, "zalo", text))
    assert [service_of(database_url, label) for label in labels(database_url)] == ["CT", "HT", "CU", "DD", "CT"]


async def test_the_words_win_over_the_procedure_asked_about_earlier(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock)
    messages, _ = await run(act, said("web:1", "web", "lay so ho tich", slots={"procedure_code": COPY.code}))
    assert "A001 — Hộ tịch" in messages[0]["text"]


async def test_a_procedure_answer_then_lay_so_gives_that_procedures_service(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock)
    await run(act, said("telegram:8", "telegram", "lấy số", slots={"procedure_code": BIRTH.code,
                                                                      "procedure": "khai sinh"}))
    await run(act, said("telegram:9", "telegram", "lấy số",
                        slots={"procedure_code": COPY.code, "procedure": "chứng thực bản sao"}))
    assert [service_of(database_url, label) for label in labels(database_url)] == ["HT", "CT"]


async def test_a_procedure_named_in_the_message_gives_its_service(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock)  # the small centre knows no «khai sinh»: the procedure's field does
    messages, _ = await run(act, said("rest:1", "rest", "cho tôi lấy số để đăng ký khai sinh cho con"))
    assert "A001 — Hộ tịch" in messages[0]["text"]


async def test_words_that_fit_several_services_are_offered_as_buttons_and_a_tap_decides(tmp_path, database_url,
                                                                                         clock):
    act = action(tmp_path, database_url, clock, load_queue_config())
    offered, _ = await run(act, said("zalo:1", "zalo", "cho tôi lấy số quầy tư pháp"))
    assert offered[0]["text"] == render("action.queue.choose_service")
    assert offered[0]["buttons"] == [{"title": "Hộ tịch", "payload": service_payload("HT")},
                                     {"title": "Chứng thực", "payload": service_payload("CT")}]
    assert labels(database_url) == []
    chosen, _ = await run(act, tapped("zalo:1", "zalo", service_payload("CT"), "queue_service", "CT"))
    assert "B001 — Chứng thực" in chosen[0]["text"]
    assert labels(database_url) == ["B001"]


async def test_nothing_named_gives_the_general_service(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock, load_queue_config())
    messages, _ = await run(act, said("zalo:1", "zalo", "tôi cần bốc số để nộp hồ sơ"))
    assert "T001 — Tiếp nhận, hướng dẫn chung" in messages[0]["text"]
    with session_scope(database_url) as session:
        assert session.scalar(select(func.count()).select_from(QueueTicket)) == 1
