"""What the queue routes share: the service, its configuration, the printer, the voice, the
board's wake-up hub and the nudge to the notification relay. Built once at start-up
(:func:`bot.services.open_services`)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.notifications import wake_relays
from bot.ratelimit import limits
from devices.printer import TicketPrinter, printer_from_url
from devices.voice import EspeakVoice, Voice
from motcua.db import Database
from motcua.queue.config import QueueConfig, load_queue_config
from motcua.queue.service import QueueService, seed_queue
from motcua.settings import Settings

log = logging.getLogger(__name__)

ANONYMOUS_TICKETS = (10, 600.0)
"""Plain numbers anyone may take from one address: 10, refilled over 10 minutes."""


class BoardHub:
    """Wakes every board stream when something changed (thread-safe ``publish``).

    With a ``bus`` (:class:`motcua.bus.RedisBus`, several gateway processes) «changed» goes through
    Redis, so a number taken or called on one gateway wakes the boards streamed by every other."""

    CHANNEL = "board"

    def __init__(self, bus: Any = None) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: set[asyncio.Event] = set()
        self.bus = bus

    async def start(self) -> None:
        """At the gateway's start: remember its loop; with a bus, listen for the other gateways' changes."""
        self._loop = asyncio.get_running_loop()
        if self.bus is not None:
            await self.bus.subscribe(self.CHANNEL, lambda _item: self._wake())

    def subscribe(self) -> asyncio.Event:
        self._loop = asyncio.get_running_loop()
        event = asyncio.Event()
        self._waiters.add(event)
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        self._waiters.discard(event)

    def publish(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if self.bus is None:
            loop.call_soon_threadsafe(self._wake)
        else:
            asyncio.run_coroutine_threadsafe(self._relay(), loop)

    async def _relay(self) -> None:
        try:
            await self.bus.publish(self.CHANNEL, {})
        except Exception:  # Redis away: this gateway's boards at least are woken
            log.warning("board: could not publish the change through Redis", exc_info=True)
            self._wake()

    def _wake(self) -> None:
        for event in self._waiters:
            event.set()


class QueueRuntime:
    """Everything the queue routes need (:meth:`seed` puts the configuration's services and
    counters into an empty database)."""

    def __init__(self, settings: Settings, database: Database, config: QueueConfig | None = None,
                 service: QueueService | None = None, printer: TicketPrinter | None = None,
                 voice: Voice | None = None, bus: Any = None):
        self.settings = settings
        self.database = database
        self.config = config or load_queue_config()
        self.service = service or QueueService(self.config)
        self.printer = printer if printer is not None else printer_from_url(settings.printer_url)
        self.voice = voice or EspeakVoice(settings.data_dir / "voice")
        self.hub = BoardHub(bus)
        burst, seconds = ANONYMOUS_TICKETS
        self.anonymous_tickets = limits(settings, "tickets", burst * 60.0 / seconds, burst)  # every gateway

    def seed(self) -> bool:
        """Copy the configuration's services and counters into the database when it has none; fill the
        default centre from ``center.yaml`` (:func:`motcua.centers.ensure_default_center_from_files`)."""
        from motcua.centers import ensure_default_center_from_files

        with self.database.session() as session:
            ensure_default_center_from_files(session)
            seeded = seed_queue(session, self.config)
        if seeded:
            log.info("queue: services and counters loaded from the configuration file")
        return seeded

    def wake_notifications(self) -> int:
        """After a call is committed: the notification relay sends what it wrote for citizens (the called
        citizen's «your turn», the near-turn notices) now, not on its next periodic pass."""
        return wake_relays(self.database)

    @property
    def public_url(self) -> str:
        return (self.settings.public_url or f"http://{self.settings.host}:{self.settings.gateway_port}").rstrip("/")

    def status_url(self, token: str) -> str:
        return f"{self.public_url}/queue/ticket/{token}"
