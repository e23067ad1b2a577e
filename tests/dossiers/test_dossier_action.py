"""action_check_dossier_status with a real Tracker and CollectingDispatcher, no server."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.dossiers import ASK_CODE, ActionCheckDossierStatus
from tests.dossiers.support import application


def tracker(text: str = "", entities: list | None = None, slots: dict | None = None,
            sender: str = "telegram:42", intent: str = "check_dossier_status") -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": entities or []}
    return Tracker(sender, slots or {}, latest, [], False, None, {}, "action_listen")


def entity(name: str, value: str) -> dict:
    return {"entity": name, "value": value, "start": 0, "end": len(value), "extractor": "RegexEntityExtractor"}


async def run(action, t: Tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return "\n".join(m.get("text") or "" for m in dispatcher.messages), events


@pytest.fixture
def code(sqlite_service, sqlite_db) -> str:
    code = sqlite_db.run(sqlite_service.file_dossier, application()).code
    sqlite_db.run(sqlite_service.request_supplement, code, "Thiếu giấy chứng sinh của cháu.", actor="staff:thuha")
    return code


async def test_a_code_alone_gets_only_the_safe_fields(sqlite_service, code, sqlite_db):
    text, events = await run(ActionCheckDossierStatus(sqlite_service, sqlite_db),
                             tracker(f"hồ sơ {code} xong chưa", [entity("dossier_code", code)]))
    assert f"Hồ sơ {code}" in text and "Đăng ký khai sinh" not in text
    assert "Tình trạng: Cần bổ sung hồ sơ" in text
    assert "Nguyễn Thị Lan" not in text and "Thiếu giấy chứng sinh" not in text
    assert "mã tra cứu" in text and "cả số căn cước và số điện thoại" in text
    assert events == [SlotSet("dossier_code", code)]


async def test_the_matching_phone_in_a_later_turn_shows_the_details(sqlite_service, code, sqlite_db):
    t = tracker("số điện thoại của tôi là 0912 345 678", [entity("phone_number", "0912 345 678")],
                slots={"dossier_code": code, "cccd_number": "001190012345"}, intent="inform")
    text, _ = await run(ActionCheckDossierStatus(sqlite_service, sqlite_db), t)
    assert "Người nộp: Nguyễn Thị Lan" in text
    assert "Cần bổ sung: Thiếu giấy chứng sinh của cháu." in text


async def test_a_code_written_in_the_message_or_scanned_is_found_without_an_entity(sqlite_service, code, sqlite_db):
    text, events = await run(ActionCheckDossierStatus(sqlite_service, sqlite_db), tracker(f"MOTCUA:{code}", intent="inform"))
    assert f"Hồ sơ {code}" in text and events == [SlotSet("dossier_code", code)]


async def test_a_code_of_another_format_or_unknown_gets_a_clear_message(sqlite_service, code, sqlite_db):
    text, events = await run(ActionCheckDossierStatus(sqlite_service, sqlite_db),
                             tracker("HS-2026-12", [entity("dossier_code", "HS-2026-12")], intent="inform"))
    assert "không phải mã số hồ sơ" in text and events == [SlotSet("dossier_code", None)]
    unknown = "000.00.04.H51-260310-0077"
    text, _ = await run(ActionCheckDossierStatus(sqlite_service, sqlite_db), tracker(unknown, [entity("dossier_code", unknown)]))
    assert "Không tìm thấy hồ sơ mã 000.00.04.H51-260310-0077" in text


async def test_without_a_code_it_asks_for_one(sqlite_service, sqlite_db):
    text, events = await run(ActionCheckDossierStatus(sqlite_service, sqlite_db), tracker("/check_dossier_status"))
    assert text == ASK_CODE and events == []


async def test_a_lost_code_is_found_only_by_both_numbers(sqlite_service, code, sqlite_db):
    action = ActionCheckDossierStatus(sqlite_service, sqlite_db)
    cccd = [entity("cccd_number", "001190012345")]
    for sender in ("telegram:42", "zalo:999"):  # not even from the conversation that filed it
        text, events = await run(action, tracker("001190012345", cccd, sender=sender, intent="inform"))
        assert "cho tôi thêm số điện thoại" in text and code not in text and events == []
    both = cccd + [entity("phone_number", "0912345678")]
    text, _ = await run(action, tracker("001190012345 0912345678", both, sender="zalo:999", intent="inform"))
    assert "Tôi tìm thấy hồ sơ sau" in text and code in text and "Người nộp: Nguyễn Thị Lan" in text


async def test_a_database_failure_is_told_politely(sqlite_service, monkeypatch, sqlite_db):
    def broken(*args, **kwargs):
        raise ConnectionError("database gone")

    monkeypatch.setattr(sqlite_service, "lookup", broken)
    dispatcher = CollectingDispatcher()
    await ActionCheckDossierStatus(sqlite_service, sqlite_db).run(
        dispatcher, tracker("000.00.04.H51-260310-0001", [entity("dossier_code", "000.00.04.H51-260310-0001")]), {})
    assert "đang gặp sự cố" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[0]["buttons"]


def test_the_action_server_registers_the_real_action(tmp_path, sqlite_catalogue):
    from actions.server import build_executor
    from motcua.settings import Settings

    executor, _ = build_executor(Settings(data_dir=tmp_path, database_url=sqlite_catalogue))
    assert isinstance(executor.actions["action_check_dossier_status"].__self__, ActionCheckDossierStatus)


def test_the_action_server_lets_a_form_take_a_queue_number_with_the_same_action(tmp_path, sqlite_catalogue):
    """A number asked for in the middle of a declaration is issued by the one queue action, and the form
    keeps what was declared (the form dialogue resumes after it)."""
    from actions.queue import ActionIssueQueueNumber
    from actions.server import build_executor
    from motcua.settings import Settings

    executor, _ = build_executor(Settings(data_dir=tmp_path, database_url=sqlite_catalogue))
    queue_action = executor.actions["action_issue_queue_number"].__self__
    form = executor.actions["validate_declaration_form"].__self__
    assert isinstance(queue_action, ActionIssueQueueNumber)
    assert form.interruptions["request_queue_number"] is queue_action
