"""The gateway's core: a message comes in from any channel, goes to Rasa, comes back.

Routes (``bot/routes``) call :meth:`Gateway.handle`; channels never reach Rasa
or the database themselves. A route serving anonymous clients (web widget, REST, a kiosk page
that is not an enrolled kiosk) hands over the address it saw with :func:`seen_from`; the gateway
sends Rasa only its keyed hash, the origin (:mod:`motcua.origin`), which the actions count.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

from bot.dialogue import DialogueClient, DialogueReply
from bot.message_log import LogEntry, MessageLog
from bot.sender_centers import SenderCenters
from bot.staff_desk import StaffDesk
from bot.typed_choices import TypedChoices
from channels.base import UserMessage
from motcua.centers import center_in
from motcua.origin import METADATA_KEY as ORIGIN
from motcua.origin import origin_of

SEEN = "seen_address"
"""Metadata key under which a route hands the gateway a :class:`SeenAddress` (never sent on)."""


@dataclass(frozen=True)
class SeenAddress:
    """The client address a route saw (the socket peer, or behind a trusted proxy the forwarded
    address): a Python object, so no JSON a client sends can pose as one."""

    address: str


def seen_from(message: UserMessage, address: str) -> UserMessage:
    """``message`` as sent by an anonymous client at ``address``."""
    return replace(message, metadata={**message.metadata, SEEN: SeenAddress(address)})


class Gateway:
    def __init__(self, dialogue: DialogueClient, message_log: MessageLog | None, desk: StaffDesk | None = None,
                 origin_secret: str = "", centers: SenderCenters | None = None, choices: TypedChoices | None = None):
        self.dialogue = dialogue
        self.choices = choices or TypedChoices()  # «2» typed after the assistant offered choices (bot.typed_choices)
        self.centers = centers  # a platform chat's centre (bot.sender_centers)
        self.message_log = message_log
        self.desk = desk
        # the installation's secret key (the same origins in every process); else one of this process
        self._origin_secret = origin_secret or secrets.token_urlsafe(32)

    def join(self, sender_id: str, send):
        """An open websocket session: staff replies during a handoff are pushed to ``send``. Returns ``leave``,
        which lets the staff inbox know when a kiosk waiting for staff is gone."""
        return self.desk.join(sender_id, send) if self.desk is not None else (lambda: None)

    async def handle(self, message: UserMessage) -> DialogueReply:
        message = self._with_origin(message)
        if self.centers is not None:
            message = await self.centers.apply(message)
        back = self.desk is not None and self.desk.wants_assistant(message)
        if back and self.desk is not None:  # «Quay lại trợ lý ảo»
            reply = DialogueReply([self.desk.back_to_assistant(message)], "")
        elif self.desk is not None and self.desk.is_handed_off(message.sender_id):
            # With staff: the message goes to the inbox, not to Rasa, until staff hand it back or the citizen
            # goes back to the assistant; the citizen is told at once that it went to staff («Đã chuyển tới cán bộ…»).
            reply = DialogueReply([self.desk.citizen_message(message)], "handoff")
        else:
            message = await self.choices.apply(message)
            reply = await self.dialogue.send(message)
            if reply.outcome != "busy":  # a busy answer offered nothing new: the choices still stand
                await self.choices.remember(message, reply.messages)
            if self.desk is not None:
                self.desk.observe(message, reply)
        if self.message_log is not None:
            shown = message.metadata.get("display_text") or message.text
            center = center_in(message.metadata)
            self.message_log.record(LogEntry(message.channel, message.sender_id, "in", shown,
                                             {k: v for k, v in message.metadata.items()
                                              if k not in ("display_text", ORIGIN)}
                                             or None, "handoff" if reply.outcome == "handoff" or back else "",
                                             center))  # said to the desk (the way back too): not a question
            for bot_message in reply.messages:
                self.message_log.record(LogEntry(message.channel, message.sender_id, "out", bot_message.text,
                                                 bot_message.to_dict(), reply.outcome, center))
        return reply

    def _with_origin(self, message: UserMessage) -> UserMessage:
        """The message as Rasa gets it: the origin of the address a route saw, and nothing else under
        the origin's name (a value a client sent is dropped)."""
        if SEEN not in message.metadata and ORIGIN not in message.metadata:
            return message
        seen = message.metadata.get(SEEN)
        metadata = {k: v for k, v in message.metadata.items() if k not in (SEEN, ORIGIN)}
        if isinstance(seen, SeenAddress) and seen.address:
            metadata[ORIGIN] = origin_of(seen.address, self._origin_secret)
        return replace(message, metadata=metadata)
