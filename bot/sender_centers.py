"""Which centre a platform chat belongs to (issue 24): a province runs one Telegram bot for every centre.

A centre's link ``https://t.me/<bot>?start=<centre code>`` (or its agency code) opens the chat with
``/start <code>``; the Telegram channel hands the code over as :data:`CHOICE` and the gateway remembers
it for the chat (:func:`motcua.centers.chat_center`). Every later message of that chat reaches Rasa
naming the centre (:data:`motcua.centers.CENTER_METADATA`), so its queue numbers and dossiers belong to
it. A chat that never chose, or chose a centre that is gone, is the default centre's. A route that knows
the centre itself (a centre's kiosk, widget or chat page, a REST call naming it) has set the key already.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from channels.base import UserMessage
from motcua.centers import CENTER_METADATA, DEFAULT_CENTER, chat_center
from motcua.db import Database
from motcua.origin import PLATFORM_CHANNELS

CHOICE = "center_choice"
"""Metadata key: the centre a chat asked for (a Telegram ``/start`` payload); never sent on to Rasa."""
"""Channels whose chats keep their centre between messages."""


class SenderCenters:
    """Adds the chat's centre to a message (off the event loop, one short transaction)."""

    def __init__(self, database: Database):
        self.database = database

    async def apply(self, message: UserMessage) -> UserMessage:
        metadata = dict(message.metadata)
        wanted = metadata.pop(CHOICE, None)
        if CENTER_METADATA in metadata or message.channel not in PLATFORM_CHANNELS:
            return replace(message, metadata=metadata) if wanted is not None else message
        # one transaction: a centre's name is remembered; anything else leaves the choice before as it was
        code = await asyncio.to_thread(self.database.run, chat_center, message.sender_id,
                                       wanted if isinstance(wanted, str) else None)
        if code and code != DEFAULT_CENTER:
            metadata[CENTER_METADATA] = code
        return replace(message, metadata=metadata)
