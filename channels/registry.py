"""The channels a deployment has: kinds registered by their modules, opened from the settings.

A channel module declares one class implementing :class:`~channels.base.Channel` (or
:class:`~channels.base.WebhookChannel`) and decorates it with :func:`register`. Every
module of the ``channels`` package is imported once, the first time the kinds are asked
for, so a new platform is one new module (and its settings): the gateway then gives it
``POST /webhooks/<name>`` and sends it the notices of the citizens who came through it.

:func:`open_channels` opens every registered kind its settings turn on (the gateway's
lifespan calls it) and yields :class:`Channels`: :meth:`Channels.get` names one open
channel, :meth:`Channels.send` carries bot messages to one citizen through it.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from channels.base import BotMessage, Button, Channel
from channels.delivery import RecentIds, SenderLocks
from channels.sessions import PushHub
from motcua.delivery import mask_recipient

log = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
"""A channel name is part of every sender id (``telegram:123``) and of its webhook address."""

KindT = TypeVar("KindT", bound=type)
Keeper = Callable[[str, str, list[str], str], Awaitable[None]]
"""``keeper(channel, sender_id, texts, error)``: store refused messages for a later try."""

_kinds: dict[str, type] = {}
_package_loaded = False


def register(kind: KindT) -> KindT:
    """Class decorator: make ``kind`` (with ``name``, ``capabilities``, ``from_settings``) a channel."""
    name = getattr(kind, "name", "")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ValueError(f"{kind.__name__}.name must match {NAME_PATTERN.pattern}, got {name!r}")
    if not callable(getattr(kind, "from_settings", None)):
        raise TypeError(f"{kind.__name__} needs a from_settings(settings, shared) classmethod")
    known = _kinds.get(name)
    if known is not None and known is not kind:
        raise ValueError(f"channel {name!r} is already registered by {known.__module__}.{known.__qualname__}")
    _kinds[name] = kind
    return kind


def unregister(name: str) -> None:
    """Forget a kind (tests that registered their own)."""
    _kinds.pop(name, None)


def kinds() -> dict[str, type]:
    """Every registered kind by name, the package's own modules included."""
    _load_package()
    return dict(sorted(_kinds.items()))


def webhook_kinds() -> list[type]:
    """The kinds whose platform POSTs to ``/webhooks/<name>``."""
    return [kind for kind in kinds().values() if is_webhook(kind)]


def is_webhook(kind: type) -> bool:
    return all(callable(getattr(kind, attribute, None)) for attribute in ("verify", "parse", "answer"))


def _load_package() -> None:
    """Import every module of ``channels`` once; each registers its own kind."""
    global _package_loaded
    if _package_loaded:
        return
    import channels

    for module in pkgutil.iter_modules(channels.__path__):
        importlib.import_module(f"channels.{module.name}")
    _package_loaded = True


@dataclass
class Shared:
    """What the gateway hands every channel it opens."""

    sessions: PushHub = field(default_factory=PushHub)  # notices for open pages (web widget, kiosk)
    devices: PushHub = field(default_factory=lambda: PushHub(keep_pending=False))  # kiosk scanner events


def live_hubs(bus: Any = None) -> Shared:
    """The hubs of one gateway process; with a bus (:class:`motcua.bus.RedisBus`) they reach the pages
    open on every gateway of the deployment."""
    if bus is None:
        return Shared()
    from channels.sessions import messages_from_json, messages_to_json

    return Shared(sessions=PushHub(bus=bus, name="sessions", encode=messages_to_json, decode=messages_from_json),
                  devices=PushHub(keep_pending=False, bus=bus, name="devices"))


class RecipientGone(Exception):
    """Raised by a channel's ``send`` when the recipient is no longer there to be told (a kiosk
    session that ended): reported as :attr:`NotifyResult.gone`, never kept, not worth many tries."""


@dataclass(frozen=True)
class NotifyResult:
    channel: str
    sender_id: str
    delivered: bool  # reached the platform or an open page
    queued: bool = False  # kept until the page reconnects
    error: str = ""
    gone: bool = False  # the recipient is no longer there (:class:`RecipientGone`)


class Channels:
    """The open channels of one gateway process, and what their routes share."""

    def __init__(self, opened: Iterable[Channel] = (), shared: Shared | None = None):
        self._opened: dict[str, Channel] = {}
        for channel in opened:
            self.add(channel)
        self.shared = shared or Shared()
        self.locks = SenderLocks()  # one sender's messages reach the gateway in order
        self._recent: dict[str, RecentIds] = {}
        self.keeper: Keeper | None = None
        """Where a bot reply a platform refused goes to be retried (the notice outbox); None: logged only."""

    @property
    def sessions(self) -> PushHub:
        return self.shared.sessions

    @property
    def devices(self) -> PushHub:
        return self.shared.devices

    def add(self, channel: Channel) -> None:
        if channel.name in self._opened:
            raise ValueError(f"channel {channel.name!r} is open already")
        self._opened[channel.name] = channel

    def get(self, name: str) -> Channel | None:
        """The open channel called ``name``; None when it is unknown or its settings leave it off."""
        return self._opened.get(name)

    def enabled(self) -> list[str]:
        return sorted(self._opened)

    def recent(self, name: str) -> RecentIds:
        """The event ids of ``name`` handled lately (platforms deliver again when unsure)."""
        return self._recent.setdefault(name, RecentIds())

    async def send(self, channel: str, sender_id: str, messages: list[BotMessage], *,
                   keep: bool = True) -> NotifyResult:
        """Bot messages to one citizen (``telegram:123`` or just ``123``) through their own channel.

        A platform refusing (a blocked bot, Zalo's 48-hour window…) is reported, not raised; with
        ``keep`` the messages also go to :attr:`keeper` (the notice outbox) to be tried again later.
        """
        if not messages:
            raise ValueError("nothing to send")
        full_id = sender_id if sender_id.startswith(f"{channel}:") else f"{channel}:{sender_id}"
        target = self.get(channel)
        if target is None:
            return NotifyResult(channel, full_id, False, error=f"channel {channel!r} is not configured")
        try:
            reached = await target.send(full_id, target.capabilities.fit(list(messages)))
        except RecipientGone as exc:  # nobody to keep it for
            return NotifyResult(channel, full_id, False, error=f"{type(exc).__name__}: {exc}", gone=True)
        except Exception as exc:
            log.warning("sending to %s failed: %r", mask_recipient(full_id), exc)
            error = f"{type(exc).__name__}: {exc}"
            if keep and self.keeper is not None:
                await self._keep(channel, full_id, messages, error)
            return NotifyResult(channel, full_id, False, error=error)
        return NotifyResult(channel, full_id, delivered=bool(reached), queued=not reached)

    async def _keep(self, channel: str, full_id: str, messages: list[BotMessage], error: str) -> None:
        keeper = self.keeper
        assert keeper is not None
        try:
            await keeper(channel, full_id, [message.as_plain_text() for message in messages], error)
        except Exception:  # the outbox unreachable too: the log is all that is left
            log.exception("could not keep the refused reply to %s for a later try", mask_recipient(full_id))

    async def notify(self, channel: str, sender_id: str, text: str, buttons: tuple[Button, ...] = (),
                     custom: dict[str, Any] | None = None) -> NotifyResult:
        """A notice nobody asked for just now ("your dossier is ready", "your number is called");
        ``custom`` is what a page shows beside the text (the kiosk's «called» banner)."""
        if not text:
            raise ValueError("a notification needs a text")
        # the callers (the relay, the staff desk) keep what fails themselves
        return await self.send(channel, sender_id, [BotMessage(text, tuple(buttons), custom=custom or None)],
                               keep=False)

    async def aclose(self) -> None:
        for name, channel in self._opened.items():
            try:
                await channel.aclose()
            except Exception as exc:  # closing one must not hide the real shutdown, nor skip the others
                log.warning("closing channel %s: %r", name, exc)


def channel_configured(name: str, settings) -> bool:
    """Whether a channel called ``name`` can carry messages: a kind of that name is registered and
    the settings turn it on (its ``configured(settings)`` when it has one). A notice is never
    addressed to a channel without one — there is no SMS sender unless a module registers "sms"."""
    kind = kinds().get(name)
    if kind is None:
        return False
    configured = getattr(kind, "configured", None)
    return bool(configured(settings)) if callable(configured) else True


@asynccontextmanager
async def open_channels(settings, shared: Shared | None = None) -> AsyncIterator[Channels]:
    """Open every registered kind the settings turn on; close them all at the end."""
    channels = Channels(shared=shared)
    try:
        for kind in kinds().values():
            channel = kind.from_settings(settings, channels.shared)
            if channel is not None:
                channels.add(channel)
        yield channels
    finally:
        await channels.aclose()  # also those opened before one that failed


__all__ = ["Channels", "Keeper", "NotifyResult", "RecipientGone", "Shared", "channel_configured", "is_webhook", "kinds",
           "live_hubs", "open_channels",
           "register", "unregister", "webhook_kinds"]
