"""A service whose stop never ends does not keep the gateway from stopping."""

from __future__ import annotations

import asyncio
import logging

import bot.services as services_module
from bot.services import open_services
from motcua.db import upgrade_database
from motcua.privacy import RetentionJob
from motcua.settings import Settings


def test_a_stop_that_never_ends_is_logged_and_the_others_still_stop(tmp_path, monkeypatch, caplog):
    url = f"sqlite:///{tmp_path / 'motcua.sqlite3'}"
    upgrade_database(url)
    settings = Settings(data_dir=tmp_path, database_url=url, rasa_url="http://127.0.0.1:9")
    monkeypatch.setattr(services_module, "STOP_TIMEOUT_S", 0.2)

    async def never(self) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(RetentionJob, "stop", never)
    stopped: list[str] = []
    original_stop = services_module.WebhookInbox.stop

    async def inbox_stop(self) -> None:
        stopped.append("webhook_inbox")
        await original_stop(self)

    monkeypatch.setattr(services_module.WebhookInbox, "stop", inbox_stop)

    async def run() -> bool:
        async with open_services(settings) as services:
            assert services.database is not None
        return True

    with caplog.at_level(logging.ERROR, logger="bot.services"):
        assert asyncio.run(run()) is True
    assert stopped == ["webhook_inbox"]  # stopped before the retention job, and still stopped
    assert any("stopping retention" in r.getMessage() for r in caplog.records)
