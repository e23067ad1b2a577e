"""Where an anonymous chat message came from, without keeping the address: its *origin*.

The web widget, the REST chat and a kiosk page that is not an enrolled kiosk are anonymous: the
sender id is whatever the client chose, so the only thing that ties a flood of new conversations
together is the client address. The gateway (:mod:`bot.gateway`) turns the address it saw into a
keyed hash, the origin, and puts it in the message's metadata under :data:`METADATA_KEY`; Rasa hands
that metadata to the actions, which count per origin (queue numbers: :mod:`motcua.queue.limits`;
handoffs: :mod:`actions.procedures`). Only the gateway writes the key — whatever a message brought
under that name is dropped — and messages from Telegram, Zalo or an enrolled kiosk carry none.

The hash is an HMAC with the installation's secret key: the same address gives the same origin in
every process, and an origin cannot be turned back into an address by trying them all.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

PLATFORM_CHANNELS = frozenset({"telegram", "zalo"})
"""Channels whose sender id is one person's chat on a platform: they carry no origin (the platform vouches for
the sender), a chat id is no secret (:mod:`bot.routes.ratings`), the chat remembers its centre
(:mod:`bot.sender_centers`), and its handoffs are counted per chat (:mod:`actions.procedures`)."""

METADATA_KEY = "client_origin"
"""The message metadata key of the origin (set by the gateway only)."""
_SHAPE = re.compile(r"^[0-9a-f]{32}$")


def origin_of(address: str, secret: str | bytes) -> str:
    """The origin of a client ``address`` (32 hex characters) under ``secret``."""
    if not address:
        raise ValueError("origin_of() needs the client address")
    if not secret:
        raise ValueError("origin_of() needs a secret key")
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, b"motcua/client-origin:" + address.encode(), hashlib.sha256).hexdigest()[:32]


def origin_in(metadata: Mapping[str, Any] | None) -> str:
    """The origin a message's metadata carries, or "" (none, or not of the gateway's shape)."""
    value = (metadata or {}).get(METADATA_KEY)
    return value if isinstance(value, str) and _SHAPE.match(value) else ""
