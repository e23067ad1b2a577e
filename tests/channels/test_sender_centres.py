"""A province's one Telegram bot serves every centre (issue 24): a centre's link, ``t.me/<bot>?start=<centre>``,
opens the chat with ``/start <centre>``; the gateway remembers the centre for that chat and names it to Rasa on
every message after, so the chat's numbers and dossiers belong to it. A REST call names its centre itself."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.sender_centers import CHOICE, SenderCenters
from channels.base import UserMessage
from motcua.centers import CENTER_METADATA, SenderCenter, add_center
from motcua.db import session_scope, shared_database, utcnow
from motcua.models import ConversationMessage
from motcua.privacy import purge_expired
from tests.channels.fakes import TELEGRAM_SECRET, telegram_update

CHAT = 5123456789
SENDER = f"telegram:{CHAT}"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
AN_BINH = "xa-an-binh"


def _centres(url: str) -> None:
    with session_scope(url) as session:
        add_center(session, AN_BINH, "Trung tâm Phục vụ hành chính công xã An Bình", agency_code="000.00.05.H51")
        add_center(session, "xa-dong-tam", "Trung tâm Phục vụ hành chính công xã Đông Tâm")


def _start(update_id: int, text: str, chat: int = CHAT) -> dict:
    update = telegram_update("telegram_command_start.json", update_id, text=text,
                             entities=[{"offset": 0, "length": 6, "type": "bot_command"}])
    update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat
    return update


def _said(update_id: int, text: str, chat: int = CHAT) -> dict:
    update = telegram_update("telegram_command_start.json", update_id, text=text, entities=[])
    update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat
    return update


def _bodies(fakes, sender: str) -> list[tuple[str, str | None]]:
    return [(b["message"], (b.get("metadata") or {}).get(CENTER_METADATA)) for b in fakes.rasa.state.received
            if b["sender"] == sender]


def test_a_centre_s_telegram_link_makes_the_chat_that_centre_s_until_another_link(settings, fakes):
    _centres(settings.sqlalchemy_url)
    with TestClient(create_app(settings)) as client:
        for update in (_start(718250001, f"/start {AN_BINH}"), _said(718250002, "lay so thu tu"),
                       _start(718250003, "/start khong-co-xa-nay"),  # no such centre: the choice stays
                       _said(718250004, "nop ho so khai sinh"),
                       _start(718250005, "/start 000.00.05.h51"),  # by agency code
                       _start(718250006, "/start xa-dong-tam"), _said(718250007, "cam on"),
                       _said(718250008, "xin chao", chat=777),  # another chat chose nothing
                       _start(718250009, "/start default", chat=888)):
            assert client.post("/webhooks/telegram", json=update, headers=HEADERS).status_code == 200
    assert _bodies(fakes, SENDER) == [
        ("/greet", AN_BINH), ("lay so thu tu", AN_BINH), ("/greet", AN_BINH), ("nop ho so khai sinh", AN_BINH),
        ("/greet", AN_BINH), ("/greet", "xa-dong-tam"), ("cam on", "xa-dong-tam")]
    assert _bodies(fakes, "telegram:777") == [("xin chao", None)]
    assert _bodies(fakes, "telegram:888") == [("/greet", None)]  # the default centre is never named
    assert all(CHOICE not in (b.get("metadata") or {}) for b in fakes.rasa.state.received)  # never sent on
    with session_scope(settings.sqlalchemy_url) as session:
        rows = dict(session.execute(select(SenderCenter.sender_id, SenderCenter.center_code)).all())
        logged = session.execute(select(ConversationMessage.text, ConversationMessage.center_code).where(
            ConversationMessage.sender_id == SENDER, ConversationMessage.direction == "in")
            .order_by(ConversationMessage.id)).all()
    assert rows == {SENDER: "xa-dong-tam", "telegram:888": "default"}
    # the message log keeps each message's centre (the dashboard counts a centre's questions)
    assert [tuple(row) for row in logged] == [
        ("/start", AN_BINH), ("lay so thu tu", AN_BINH), ("/start", AN_BINH), ("nop ho so khai sinh", AN_BINH),
        ("/start", AN_BINH), ("/start", "xa-dong-tam"), ("cam on", "xa-dong-tam")]


def test_a_zalo_chat_chooses_its_centre_with_the_posters_start_message(settings, fakes):
    from tests.channels.fakes import zalo_event
    from tests.channels.test_zalo import USER, deliver

    _centres(settings.sqlalchemy_url)
    zalo = f"zalo:{USER}"
    with TestClient(create_app(settings)) as client:
        for n, text in enumerate(("/start xa-an-binh", "lay so thu tu", "/START 000.00.05.H51",
                                  "/start khong-co-xa-nay", "nop ho so", "/start xa-dong-tam", "cam on"), 1):
            event = zalo_event("zalo_user_send_text.json", msg_id=f"m-{n}", text=text,
                               timestamp=str(1741766400000 + n * 1000))
            assert deliver(client, event).status_code == 200
    assert _bodies(fakes, zalo) == [
        ("/greet", AN_BINH), ("lay so thu tu", AN_BINH), ("/greet", AN_BINH), ("/greet", AN_BINH),
        ("nop ho so", AN_BINH), ("/greet", "xa-dong-tam"), ("cam on", "xa-dong-tam")]
    assert all(CHOICE not in (b.get("metadata") or {}) for b in fakes.rasa.state.received)
    with session_scope(settings.sqlalchemy_url) as session:
        assert session.get(SenderCenter, zalo).center_code == "xa-dong-tam"


def test_a_rest_call_names_its_centre_and_an_unknown_one_is_the_default(settings, fakes):
    _centres(settings.sqlalchemy_url)
    with TestClient(create_app(settings)) as client:
        for body in ({"sender": "app-1", "text": "lay so", "center": AN_BINH},
                     {"sender": "app-1", "text": "lay so nua"},
                     {"sender": "app-1", "text": "lay so", "center": "xa-khong-co"}):
            assert client.post("/api/v1/messages", json=body).status_code == 200
    assert _bodies(fakes, "rest:app-1") == [("lay so", AN_BINH), ("lay so nua", None), ("lay so", None)]


def test_a_route_s_own_centre_wins_and_other_channels_are_not_looked_up(database_url):
    with session_scope(database_url) as session:
        add_center(session, AN_BINH, "An Bình")
    centers = SenderCenters(shared_database(database_url))

    def apply(message: UserMessage) -> dict:
        return asyncio.run(centers.apply(message)).metadata

    assert apply(UserMessage("telegram", "telegram:1", "/greet", {CHOICE: AN_BINH})) == {CENTER_METADATA: AN_BINH}
    # a kiosk page of another centre keeps its own, and a stray choice is dropped
    assert apply(UserMessage("telegram", "telegram:1", "x", {CENTER_METADATA: "xa-khac", CHOICE: "y"})) == {
        CENTER_METADATA: "xa-khac"}
    assert apply(UserMessage("web", "web:1", "x", {CHOICE: AN_BINH})) == {}  # only platform chats remember
    assert apply(UserMessage("zalo", "zalo:9", "x", {})) == {}
    assert apply(UserMessage("telegram", "telegram:1", "x", {})) == {CENTER_METADATA: AN_BINH}


def test_a_remembered_centre_goes_with_the_retention_period(database_url):
    with session_scope(database_url) as session:
        add_center(session, AN_BINH, "An Bình")
        session.add(SenderCenter(sender_id="telegram:1", center_code=AN_BINH, updated_at=utcnow() - timedelta(days=100)))
        session.add(SenderCenter(sender_id="telegram:2", center_code=AN_BINH, updated_at=utcnow()))
    assert purge_expired(database_url, 90).counts["sender_centers"] == 1
    with session_scope(database_url) as session:
        assert session.scalars(select(SenderCenter.sender_id)).all() == ["telegram:2"]


def test_the_migration_matches_the_table(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from motcua.db import Base, get_engine, import_all_models

    import_all_models()
    with get_engine(database_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [change for change in diff if "sender_centers" in repr(change)] == []
