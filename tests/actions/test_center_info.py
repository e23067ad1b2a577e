"""«Trung tâm ở đâu, mấy giờ làm việc?» is answered with the card of the centre the citizen writes from:
the default centre's from center.yaml, another centre's from its row (issue 24)."""

from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.center import ActionCenterInfo
from actions.server import center_info_text
from motcua.centers import CENTER_METADATA, add_center
from motcua.db import session_scope, shared_database
from motcua.settings import Settings

DEFAULT_CARD = "Trung tâm PVHCC xã Demo\nĐịa chỉ: Số 1 đường Trung Tâm"


def said(action: ActionCenterInfo, center: str | None) -> str:
    metadata = {CENTER_METADATA: center} if center else {}
    latest = {"text": "trung tâm ở đâu", "intent": {"name": "ask_center_info", "confidence": 0.9},
              "entities": [], "metadata": metadata}
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, Tracker("s1", {}, latest, [], False, None, {}, "action_listen"), {}))
    assert len(dispatcher.messages) == 1
    return dispatcher.messages[0]["text"]


def test_each_centre_gives_its_own_address_hours_and_phone(database_url):
    with session_scope(database_url) as session:
        add_center(session, "xa-dong", "Trung tâm Phục vụ hành chính công xã Đông", address="Thôn 3, xã Đông",
                   phone="0272 3 111 222", hours="Thứ Hai đến Thứ Sáu: 07:00–11:00, 13:00–16:30")
        add_center(session, "xa-tay", "Trung tâm Phục vụ hành chính công xã Tây")  # nothing filled in yet
    action = ActionCenterInfo(DEFAULT_CARD, shared_database(database_url))

    assert said(action, None) == DEFAULT_CARD
    assert said(action, "xa-dong") == ("Trung tâm Phục vụ hành chính công xã Đông\nĐịa chỉ: Thôn 3, xã Đông\n"
                                       "Giờ làm việc: Thứ Hai đến Thứ Sáu: 07:00–11:00, 13:00–16:30\n"
                                       "Điện thoại: 0272 3 111 222")
    assert said(action, "xa-tay") == "Trung tâm Phục vụ hành chính công xã Tây"  # no made-up address or hours
    assert said(action, "khong-con") == DEFAULT_CARD  # a centre removed since: the default's card


def test_the_default_card_is_read_from_center_yaml_with_its_hours(tmp_path):
    card = center_info_text(Settings(data_dir=tmp_path))
    lines = card.splitlines()
    assert lines[0] == "Trung tâm Phục vụ hành chính công xã Demo"
    assert lines[1].startswith("Địa chỉ: Số 1 đường Trung Tâm")
    assert any(line.startswith("Giờ làm việc: Thứ Hai đến Thứ Sáu: 07:30–11:30, 13:30–17:00") for line in lines)


def test_where_to_submit_a_commune_procedure_names_the_citizens_own_centre(database_url):
    """«Nộp ở đâu» says the catalogue's agency («UBND cấp xã»), then the centre the citizen writes from."""
    from dataclasses import replace

    from actions.answering import ActionAnswer
    from actions.center import CenterPlaces
    from actions.server import default_center_info
    from tests.actions.fakes import BIRTH, FakeKnowledge

    with session_scope(database_url) as session:
        add_center(session, "xa-dong", "Trung tâm Phục vụ hành chính công xã Đông", address="Thôn 3, xã Đông")
        add_center(session, "xa-tay", "Trung tâm Phục vụ hành chính công xã Tây")  # no address yet
    places = CenterPlaces(default_center_info(), shared_database(database_url))
    commune = replace(BIRTH, levels=["Cấp xã"], receiving_agency="Ủy ban nhân dân cấp xã")
    province = replace(BIRTH, code="2.000001", levels=["Cấp tỉnh"], receiving_agency="Sở Tư pháp")

    def where(procedure, center: str | None) -> str:
        action = ActionAnswer(FakeKnowledge([procedure]), legal=object(), places=places)
        metadata = {CENTER_METADATA: center} if center else {}
        latest = {"text": "nộp ở đâu", "intent": {"name": "ask_submission", "confidence": 0.9}, "entities": [],
                  "metadata": metadata}
        dispatcher = CollectingDispatcher()
        tracker = Tracker("s1", {"procedure_code": procedure.code}, latest, [], False, None, {}, "action_listen")
        asyncio.run(action.run(dispatcher, tracker, {}))
        return dispatcher.messages[0]["text"]

    default = where(commune, None)
    assert "Nơi nhận: Ủy ban nhân dân cấp xã." in default
    assert ("Ông/bà có thể nộp tại: Trung tâm Phục vụ hành chính công xã Demo — Số 1 đường Trung Tâm, thôn Đông, "
            "xã Demo, tỉnh Demo.") in default
    assert "nộp tại: Trung tâm Phục vụ hành chính công xã Đông — Thôn 3, xã Đông." in where(commune, "xa-dong")
    assert "nộp tại: Trung tâm Phục vụ hành chính công xã Tây." in where(commune, "xa-tay")  # no address invented
    assert "nộp tại" not in where(province, "xa-dong")  # not done at a commune centre: not sent there
    assert "nộp tại" not in where(commune, "khong-con")  # a centre removed since: nothing said of it
    police = replace(BIRTH, code="1.010000", levels=["Cấp xã"], receiving_agency="Công an xã nơi dự kiến tạm trú")
    assert "Nơi nhận: Công an xã nơi dự kiến tạm trú." in where(police, None)
    assert "nộp tại" not in where(police, None)  # received by the commune police, not at the centre


def test_the_card_and_the_hours_are_said_in_the_callers_language(tmp_path):
    """The default card is written at each call (the action server runs a call in its language): an English
    citizen reads «Opening hours: Monday to Friday …», as in «closed for today» after hours."""
    from functools import partial

    from actions.queue import ChatHours
    from actions.server import _card, default_center_info
    from knowledge_base.messages import speaking
    from motcua.workdays import HolidayCalendar

    settings = Settings(data_dir=tmp_path)
    action = ActionCenterInfo(partial(_card, settings, default_center_info()))
    vietnamese = said(action, None)
    with speaking("en"):
        english = said(action, None)
        hours = ChatHours(default_center_info(), HolidayCalendar.load()).describe()
    assert "Giờ làm việc: Thứ Hai đến Thứ Sáu: 07:30–11:30, 13:30–17:00" in vietnamese
    assert "Opening hours: Monday to Friday: 07:30–11:30, 13:30–17:00; Saturday: 07:30–11:30" in english
    assert hours == "Monday to Friday: 07:30–11:30, 13:30–17:00; Saturday: 07:30–11:30"


def test_the_greeting_names_the_centre_the_citizen_writes_from_in_their_language(database_url):
    from actions.center import ActionGreet, CenterPlaces
    from actions.server import default_center_info
    from knowledge_base.messages import render, speaking

    with session_scope(database_url) as session:
        add_center(session, "xa-dong", "Trung tâm Phục vụ hành chính công xã Đông", address="Thôn 3, xã Đông")
    greet = ActionGreet(CenterPlaces(default_center_info(), shared_database(database_url)))
    assert said(greet, None).startswith("Xin chào ông/bà! Tôi là trợ lý ảo Một Cửa của Trung tâm Phục vụ hành "
                                        "chính công xã Demo. ")
    assert "của Trung tâm Phục vụ hành chính công xã Đông." in said(greet, "xa-dong")
    assert said(greet, "khong-con") == render("action.greet_unnamed")  # no such centre: no made-up name
    with speaking("en"):
        assert said(greet, "xa-dong").startswith("Hello! I am the Một Cửa virtual assistant of Trung tâm Phục vụ "
                                                 "hành chính công xã Đông.")
    assert said(ActionGreet(CenterPlaces(None)), None) == render("action.greet_unnamed")  # center.yaml unreadable
