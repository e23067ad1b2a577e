"""Outbound messages nobody asked for just now: "your dossier is ready", "your number is called".

:class:`Notifier` sends a text to one citizen by ``(channel, sender_id)`` through the
right road: the Telegram Bot API, the Zalo OA API, or — for web widget and kiosk
sessions — a :class:`PushHub` that hands it to the open page at once, or keeps it until
the page reconnects.

:func:`open_channels` builds (and at the end closes) every outbound client the gateway
needs from the settings; the gateway's lifespan calls it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from channels.base import BotMessage, Button
from channels.delivery import RecentIds, SenderLocks

log = logging.getLogger(__name__)

SESSION_CHANNELS = frozenset({"web", "kiosk"})


class PushHub:
    """Items for keys (``web:<session>``, ``device:<id>``): live subscribers, and pending ones.

    With ``keep_pending`` an item published while nobody listens waits (at most
    ``max_pending`` per key, ``ttl_s`` seconds, ``max_keys`` keys) and is handed over by
    :meth:`drain` when the page comes back.
    """

    def __init__(self, keep_pending: bool = True, max_pending: int = 20, max_keys: int = 10_000,
                 ttl_s: float = 24 * 3600):
        self.keep_pending = keep_pending
        self.max_pending = max_pending
        self.max_keys = max_keys
        self.ttl_s = ttl_s
        self._subscribers: dict[str, set[asyncio.Queue[Any]]] = {}
        self._pending: OrderedDict[str, deque[tuple[float, Any]]] = OrderedDict()

    def subscribe(self, key: str) -> asyncio.Queue[Any]:
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=100)
        self._subscribers.setdefault(key, set()).add(queue)
        return queue

    def unsubscribe(self, key: str, queue: asyncio.Queue[Any]) -> None:
        queues = self._subscribers.get(key)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._subscribers[key]

    def listening(self, key: str) -> int:
        return len(self._subscribers.get(key, ()))

    def publish(self, key: str, item: Any) -> int:
        """Hand ``item`` to every live subscriber; returns how many got it (0 = kept or dropped)."""
        delivered = 0
        for queue in list(self._subscribers.get(key, ())):
            try:
                queue.put_nowait(item)
                delivered += 1
            except asyncio.QueueFull:
                log.warning("push queue full for %s: item dropped", key)
        if not delivered and self.keep_pending:
            waiting = self._pending.pop(key, deque(maxlen=self.max_pending))
            waiting.append((time.monotonic(), item))
            self._pending[key] = waiting
            while len(self._pending) > self.max_keys:
                self._pending.popitem(last=False)
        return delivered

    def drain(self, key: str) -> list[Any]:
        waiting = self._pending.pop(key, None) or ()
        oldest = time.monotonic() - self.ttl_s
        return [item for at, item in waiting if at >= oldest]


@dataclass(frozen=True)
class NotifyResult:
    channel: str
    sender_id: str
    delivered: bool  # reached the platform or an open page
    queued: bool = False  # kept until the page reconnects
    error: str = ""


@dataclass
class Notifier:
    telegram: Any = None  # channels.telegram.TelegramChannel
    zalo: Any = None  # channels.zalo.ZaloChannel
    sessions: PushHub = field(default_factory=PushHub)

    async def notify(self, channel: str, sender_id: str, text: str,
                     buttons: tuple[Button, ...] = ()) -> NotifyResult:
        """Send ``text`` to the citizen known as ``sender_id`` (``telegram:123`` or just ``123``)."""
        if not text:
            raise ValueError("a notification needs a text")
        return await self.send(channel, sender_id, [BotMessage(text, tuple(buttons))])

    async def send(self, channel: str, sender_id: str, messages: list[BotMessage]) -> NotifyResult:
        """Send bot messages (text, buttons) to one citizen through their own channel."""
        if not messages:
            raise ValueError("nothing to send")
        full_id = sender_id if sender_id.startswith(f"{channel}:") else f"{channel}:{sender_id}"
        if channel in SESSION_CHANNELS:
            live = self.sessions.publish(full_id, list(messages))
            return NotifyResult(channel, full_id, delivered=live > 0, queued=live == 0)
        platform = {"telegram": self.telegram, "zalo": self.zalo}.get(channel)
        if platform is None:
            return NotifyResult(channel, full_id, False, error=f"kênh {channel!r} chưa được cấu hình")
        try:
            await platform.send(full_id, list(messages))
        except Exception as exc:  # a platform refusing (blocked bot, 48-hour window…) is reported, not raised
            log.warning("notification to %s failed: %r", full_id, exc)
            return NotifyResult(channel, full_id, False, error=f"{type(exc).__name__}: {exc}")
        return NotifyResult(channel, full_id, True)


_current: Notifier | None = None


async def notify(channel: str, sender_id: str, messages: list[BotMessage] | str) -> bool:
    """For code that has no app at hand (the staff desk): send through the running gateway's
    :class:`Notifier`. True when delivered or kept for the page; False otherwise."""
    if _current is None:
        return False
    if isinstance(messages, str):
        messages = [BotMessage(messages)]
    result = await _current.send(channel, sender_id, messages)
    return result.delivered or result.queued


@dataclass
class Channels:
    """Everything the channel routes share, built once per gateway process."""

    telegram: Any = None
    zalo: Any = None
    sessions: PushHub = field(default_factory=PushHub)  # notifications for web/kiosk sessions
    devices: PushHub = field(default_factory=lambda: PushHub(keep_pending=False))  # scanner events
    notifier: Notifier = field(default_factory=Notifier)
    telegram_seen: RecentIds = field(default_factory=RecentIds)  # update ids already handled
    zalo_seen: RecentIds = field(default_factory=RecentIds)  # event ids already handled
    locks: SenderLocks = field(default_factory=SenderLocks)  # one sender's messages in order


@asynccontextmanager
async def open_channels(settings, telegram_bot=None, zalo_http: httpx.AsyncClient | None = None
                        ) -> AsyncIterator[Channels]:
    """Build the Telegram and Zalo clients the settings ask for; close them at the end.

    ``telegram_bot`` / ``zalo_http`` may be injected (tests); otherwise they are made here.
    """
    from channels.telegram import TelegramChannel, make_bot
    from channels.zalo import TokenStore, ZaloChannel, ZaloClient, ZaloTokens

    telegram = zalo = None
    own_http = None
    if settings.telegram_token:
        telegram = TelegramChannel(telegram_bot or make_bot(settings.telegram_token, settings.telegram_api_url))
    if settings.zalo_app_id:
        if zalo_http is None:
            zalo_http = own_http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
        tokens = TokenStore(ZaloTokens(settings.zalo_access_token, settings.zalo_refresh_token),
                            settings.zalo_token_path)
        zalo = ZaloChannel(ZaloClient(zalo_http, settings.zalo_app_id, settings.zalo_app_secret, tokens,
                                      settings.zalo_api_url, settings.zalo_oauth_url))
    sessions = PushHub()
    channels = Channels(telegram, zalo, sessions, PushHub(keep_pending=False), Notifier(telegram, zalo, sessions))
    global _current
    previous, _current = _current, channels.notifier
    try:
        yield channels
    finally:
        _current = previous
        if telegram is not None:
            try:
                await telegram.bot.shutdown()
            except Exception as exc:  # closing must not hide the real shutdown
                log.warning("closing the Telegram bot: %r", exc)
        if own_http is not None:
            await own_http.aclose()
