"""The gateway's core: a message comes in from any channel, goes to Rasa, comes back.

Routes (``bot/routes``) call :meth:`Gateway.handle`; channels never reach Rasa
or the database themselves.
"""

from __future__ import annotations

from bot.dialogue import DialogueClient, DialogueReply
from bot.message_log import LogEntry, MessageLog
from bot.staff_desk import StaffDesk
from channels.base import UserMessage


class Gateway:
    def __init__(self, dialogue: DialogueClient, message_log: MessageLog | None, desk: StaffDesk | None = None):
        self.dialogue = dialogue
        self.message_log = message_log
        self.desk = desk

    def join(self, sender_id: str, send):
        """An open websocket session: staff replies during a handoff are pushed to ``send``. Returns ``leave``,
        which lets the staff inbox know when a kiosk waiting for staff is gone."""
        return self.desk.join(sender_id, send) if self.desk is not None else (lambda: None)

    async def handle(self, message: UserMessage) -> DialogueReply:
        if self.desk is not None and self.desk.is_handed_off(message.sender_id):
            # With staff: the message goes to the inbox, not to Rasa, until staff hand it back;
            # the citizen is told at once that it went to staff («Đã chuyển tới cán bộ…»).
            reply = DialogueReply([self.desk.citizen_message(message)], "handoff")
        else:
            reply = await self.dialogue.send(message)
            if self.desk is not None:
                self.desk.observe(message, reply)
        if self.message_log is not None:
            shown = message.metadata.get("display_text") or message.text
            self.message_log.record(LogEntry(message.channel, message.sender_id, "in", shown,
                                             {k: v for k, v in message.metadata.items() if k != "display_text"}
                                             or None, "handoff" if reply.outcome == "handoff" else ""))
            for bot_message in reply.messages:
                self.message_log.record(LogEntry(message.channel, message.sender_id, "out", bot_message.text,
                                                 bot_message.to_dict(), reply.outcome))
        return reply
