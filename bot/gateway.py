"""The gateway's core: a message comes in from any channel, goes to Rasa, comes back.

Routes (``bot/routes``) call :meth:`Gateway.handle`; channels never reach Rasa
or the database themselves.
"""

from __future__ import annotations

from channels.base import UserMessage
from bot.dialogue import DialogueClient, DialogueReply
from bot.message_log import LogEntry, MessageLog


class Gateway:
    def __init__(self, dialogue: DialogueClient, message_log: MessageLog | None):
        self.dialogue = dialogue
        self.message_log = message_log

    async def handle(self, message: UserMessage) -> DialogueReply:
        reply = await self.dialogue.send(message)
        if self.message_log is not None:
            shown = message.metadata.get("display_text") or message.text
            self.message_log.record(LogEntry(message.channel, message.sender_id, "in", shown,
                                             {k: v for k, v in message.metadata.items() if k != "display_text"}
                                             or None))
            for bot_message in reply.messages:
                self.message_log.record(LogEntry(message.channel, message.sender_id, "out", bot_message.text,
                                                 bot_message.to_dict(), reply.outcome))
        return reply
