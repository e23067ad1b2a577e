"""Notifications reach a citizen through their own channel, or wait for their page to come back."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from bot.app import create_app
from channels.sessions import PushHub
from tests.channels.fakes import sent_texts, zalo_texts

READY = "Hồ sơ 000.00.04.H51-250312-0007 đã có kết quả. Mời ông/bà đến nhận tại quầy số 2."


def test_telegram_and_zalo_citizens_are_notified_through_the_platform_apis(settings, fakes):
    with TestClient(create_app(settings)) as client:
        notifier = client.app.state.services.channels
        telegram = client.portal.call(notifier.notify, "telegram", "telegram:5123456789", READY)
        zalo = client.portal.call(notifier.notify, "zalo", "2512523625412515", READY)
        rest = client.portal.call(notifier.notify, "rest", "rest:x", READY)
    assert telegram.delivered and zalo.delivered
    assert sent_texts(fakes.telegram, 5123456789) == [READY]
    assert zalo_texts(fakes.zalo, "2512523625412515") == [READY]
    assert not rest.delivered and rest.error


def test_a_web_session_gets_the_notification_now_or_when_it_reconnects(settings):
    with TestClient(create_app(settings)) as client:
        notifier = client.app.state.services.channels
        queued = client.portal.call(notifier.notify, "web", "web:session-away-1", READY)
        assert queued.queued and not queued.delivered
        with client.websocket_connect("/ws/widget?session=session-away-1") as ws:
            assert json.loads(ws.receive_text())["type"] == "session"
            assert json.loads(ws.receive_text()) == {"type": "bot", "pushed": True, "messages": [{"text": READY}]}
            live = client.portal.call(notifier.notify, "web", "session-away-1", "Số A-015 đã được gọi.")
            assert live.delivered
            assert json.loads(ws.receive_text())["messages"] == [{"text": "Số A-015 đã được gọi."}]


def test_a_kiosk_page_gets_notifications_on_its_event_socket(settings):
    with TestClient(create_app(settings)) as client, \
            client.websocket_connect("/ws/kiosk/events?session=k1") as page:
        assert json.loads(page.receive_text())["type"] == "ready"
        assert client.portal.call(client.app.state.services.channels.notify, "kiosk", "kiosk:k1", READY).delivered
        assert json.loads(page.receive_text()) == {"type": "bot", "pushed": True, "messages": [{"text": READY}]}


async def test_pending_pushes_are_bounded_and_expire():
    hub = PushHub(max_pending=2, max_keys=2, ttl_s=3600)
    for i in range(5):
        await hub.publish("web:a", i)
    await hub.publish("web:b", "b")
    await hub.publish("web:c", "c")  # the oldest key goes
    assert await hub.drain("web:a") == []
    assert await hub.drain("web:b") == ["b"]
    assert await hub.drain("web:b") == []
    expired = PushHub(ttl_s=0)
    await expired.publish("web:x", 1)
    assert await expired.drain("web:x") in ([], [1])  # ttl 0: gone as soon as the clock ticks
