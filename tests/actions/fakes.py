"""What the action tests share: a birth-registration procedure, a knowledge base over a list of
procedures (with an optional search), and a Tracker holding one message."""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.knowledge import AliasFinder, KnowledgeBase
from knowledge_base.schema import (
    ChannelKind,
    Fee,
    Procedure,
    ProcessingTime,
    RequiredDocument,
    SubmissionChannel,
    TimeUnit,
)

BIRTH = Procedure(
    code="1.001193", name="Đăng ký khai sinh", aliases=["làm giấy khai sinh", "giấy ks"],
    channels=[SubmissionChannel(ChannelKind.IN_PERSON, ProcessingTime(1, TimeUnit.WORKING_DAY), Fee(free=True)),
              SubmissionChannel(ChannelKind.ONLINE, ProcessingTime(1, TimeUnit.WORKING_DAY), Fee(free=True))],
    documents=[RequiredDocument("Giấy chứng sinh", 1, True), RequiredDocument("Tờ khai đăng ký khai sinh", 1, True)],
)


class FakeKnowledge(KnowledgeBase):
    def __init__(self, procedures, search=None, catalogue=None):
        self._procedures = {p.code: p for p in procedures}
        self._catalogue = {p.code: p for p in catalogue or []}
        self.finder = AliasFinder(procedures)
        self.search = search


def tracker(text: str, intent: str, slots: dict | None = None, entities: list | None = None,
            ranking: list | None = None) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or [],
              "intent_ranking": ranking or []}
    return Tracker("s1", slots or {}, latest, [], False, None, {}, "action_listen")
