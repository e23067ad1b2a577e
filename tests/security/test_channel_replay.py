"""Zalo and Telegram: a captured event cannot be replayed, and a redelivery is
handled once even when the gateway restarted in between."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.event_ledger import EventLedger
from channels.zalo import is_fresh
from motcua.db import session_scope, shared_database, utcnow
from motcua.models import ProcessedEvent
from tests.channels.conftest import RECORDED_AT_S
from tests.channels.fakes import (
    BIRTH_QUESTION,
    TELEGRAM_SECRET,
    fixture,
    received_from,
    signed,
    zalo_event,
)

ZALO_SENDER = "zalo:2512523625412515"
TELEGRAM_SENDER = "telegram:5123456789"
RECORDED_MS = int(RECORDED_AT_S * 1000)


def deliver_zalo(client, event):
    raw, headers = signed(event)
    return client.post("/webhooks/zalo", content=raw, headers=headers)


@pytest.mark.parametrize("offset_s", [-301, -3600, -86400 * 30, 301])
def test_a_signed_zalo_event_off_the_clock_by_more_than_five_minutes_is_refused(settings, fakes, offset_s):
    event = zalo_event("zalo_user_send_text.json", msg_id=f"old-{offset_s}",
                       timestamp=str(RECORDED_MS + offset_s * 1000))
    with TestClient(create_app(settings)) as client:
        response = deliver_zalo(client, event)
    assert response.status_code == 403
    assert "quá hạn" in response.json()["message"]
    assert received_from(fakes.rasa, ZALO_SENDER) == []
    assert fakes.zalo.state.sent == []


def test_a_fresh_zalo_event_is_answered(settings, fakes):
    event = zalo_event("zalo_user_send_text.json", msg_id="fresh", timestamp=str(RECORDED_MS - 299_000))
    with TestClient(create_app(settings)) as client:
        assert deliver_zalo(client, event).json()["message"] == "accepted"
    assert received_from(fakes.rasa, ZALO_SENDER) == [BIRTH_QUESTION]


def test_freshness_needs_a_readable_timestamp():
    assert is_fresh({"timestamp": "1741766500000"}, RECORDED_AT_S)
    assert not is_fresh({"timestamp": "soon"}, RECORDED_AT_S)
    assert not is_fresh({}, RECORDED_AT_S)
    assert not is_fresh({"timestamp": None}, RECORDED_AT_S)


def test_a_zalo_event_redelivered_after_a_restart_is_processed_once(settings, fakes):
    event = fixture("zalo_user_send_text.json")
    with TestClient(create_app(settings)) as client:
        assert deliver_zalo(client, event).json()["message"] == "accepted"
    with TestClient(create_app(settings)) as restarted:  # the in-memory set is gone; the database remembers
        assert deliver_zalo(restarted, event).json()["message"] == "duplicate"
    assert received_from(fakes.rasa, ZALO_SENDER) == [BIRTH_QUESTION]


def test_a_telegram_update_redelivered_after_a_restart_is_processed_once(settings, fakes):
    update = fixture("telegram_message_text.json")
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    with TestClient(create_app(settings)) as client:
        assert client.post("/webhooks/telegram", json=update, headers=headers).json()["detail"] == "accepted"
    with TestClient(create_app(settings)) as restarted:
        assert restarted.post("/webhooks/telegram", json=update, headers=headers).json()["detail"] == "duplicate"
    assert len(received_from(fakes.rasa, TELEGRAM_SENDER)) == 1


def test_the_ledger_records_each_id_once_per_channel_and_forgets_old_ones(database_url):
    ledger = EventLedger(shared_database(database_url), keep=timedelta(days=2))
    now = utcnow()
    assert ledger.first_time("zalo", "m-1", now - timedelta(days=3))
    assert not ledger.first_time("zalo", "m-1", now)
    assert ledger.first_time("telegram", "m-1", now)  # the same id on another platform is another event
    long_id = "follow:" + "9" * 300
    assert ledger.first_time("zalo", long_id, now) and not ledger.first_time("zalo", long_id, now)
    assert ledger.prune(now) == 1  # the three-day-old "m-1" (a repeat does not refresh its date)
    assert ledger.first_time("zalo", "m-1", now)  # forgotten: platforms stopped redelivering long before
    with session_scope(database_url) as session:
        assert session.query(ProcessedEvent).count() == 3
