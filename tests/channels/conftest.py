"""The fakes every channel test starts: a story-telling Rasa, the Telegram Bot API, Zalo's OA API."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi import FastAPI

from motcua.settings import Settings
from tests.channels.fakes import (
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    ZALO_APP_ID,
    ZALO_APP_SECRET,
    ZALO_OA_SECRET,
    fake_telegram_api,
    fake_zalo_api,
    story_rasa,
)
from tests.servers import free_port, serve_in_thread


@dataclass
class Fakes:
    rasa: FastAPI
    rasa_url: str
    telegram: FastAPI
    telegram_url: str
    zalo: FastAPI
    zalo_url: str


RECORDED_AT_S = 1741766500.0
"""Within five minutes of every recorded Zalo event's timestamp: the webhook's clock in these tests."""


@pytest.fixture(autouse=True)
def _zalo_clock_at_the_recordings(monkeypatch):
    """The recorded Zalo events (``tests/fixtures``) carry March 2025 timestamps; the webhook
    refuses events more than five minutes off its clock, so the tests run at that time."""
    import bot.routes.webhooks

    monkeypatch.setattr(bot.routes.webhooks, "wall_clock", lambda: RECORDED_AT_S)


@pytest.fixture
def fakes():
    rasa, telegram, zalo = story_rasa(), fake_telegram_api(), fake_zalo_api("access-0", "refresh-0")
    with serve_in_thread(rasa) as rasa_url, serve_in_thread(telegram) as telegram_url, \
            serve_in_thread(zalo) as zalo_url:
        yield Fakes(rasa, rasa_url, telegram, telegram_url, zalo, zalo_url)


@pytest.fixture
def migrated(tmp_path) -> str:
    from motcua.db import upgrade_database

    url = f"sqlite:///{tmp_path / 'motcua.sqlite3'}"
    upgrade_database(url)
    return url


def channel_settings(tmp_path, fakes: Fakes, **extra) -> Settings:
    values = dict(
        data_dir=tmp_path, rasa_url=fakes.rasa_url, action_url=f"http://127.0.0.1:{free_port()}/webhook",
        rasa_timeout_s=3.0, telegram_token=TELEGRAM_TOKEN, telegram_secret_token=TELEGRAM_SECRET,
        telegram_api_url=fakes.telegram_url, zalo_app_id=ZALO_APP_ID, zalo_oa_secret_key=ZALO_OA_SECRET,
        zalo_app_secret=ZALO_APP_SECRET, zalo_access_token="access-0", zalo_refresh_token="refresh-0",
        zalo_api_url=fakes.zalo_url, zalo_oauth_url=fakes.zalo_url, zalo_token_file=tmp_path / "zalo_tokens.json",
        device_token="", cors_origins=[],
    )
    values.update(extra)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path, fakes, migrated) -> Settings:
    return channel_settings(tmp_path, fakes)
