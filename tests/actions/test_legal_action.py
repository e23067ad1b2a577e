"""The legal answer quotes the clause with its citation, or says honestly it found none."""

from __future__ import annotations

from datetime import date

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.legal import NOT_FOUND, ActionAnswerLegal, quote, status_label
from knowledge_base.store import LegalDocumentRow
from retrieval.results import PassageHit, SearchResponse


class FakeSearch:
    def __init__(self, passages):
        self.passages = passages

    def search(self, query, top_k=5, kinds=None):
        assert kinds == ("passage",)
        return SearchResponse(query=query, abstained=not self.passages, passages=self.passages)


class FakeKnowledge:
    def __init__(self, search, database_url):
        self.search = search
        self.database_url = database_url


def _tracker(text):
    return Tracker("s", {}, {"text": text, "intent": {"name": "ask_legal"}, "entities": []}, [], False, None, {}, "")


async def test_a_legal_question_gets_the_clause_and_its_citation(database_url):
    passage = PassageHit("60/2014/QH13", "Điều 15", "Trong thời hạn 60 ngày kể từ ngày sinh con, cha hoặc mẹ có "
                         "trách nhiệm đăng ký khai sinh cho con.", 0.9, "Khoản 1 Điều 15 Luật Hộ tịch 60/2014/QH13")
    dispatcher = CollectingDispatcher()
    await ActionAnswerLegal(FakeKnowledge(FakeSearch([passage]), database_url)).run(
        dispatcher, _tracker("sinh con bao lâu phải khai sinh"), {})
    text = dispatcher.messages[0]["text"]
    assert text.startswith("Theo Khoản 1 Điều 15 Luật Hộ tịch 60/2014/QH13:")
    assert "Trong thời hạn 60 ngày" in text
    assert dispatcher.messages[0]["custom"]["legal"]["document"] == "60/2014/QH13"


async def test_when_nothing_is_found_it_says_so_and_offers_staff(database_url):
    dispatcher = CollectingDispatcher()
    await ActionAnswerLegal(FakeKnowledge(FakeSearch([]), database_url)).run(dispatcher, _tracker("luật về sao Hỏa"), {})
    assert dispatcher.messages[0]["text"] == NOT_FOUND
    assert {"title": "Gặp cán bộ", "payload": "/request_human"} in dispatcher.messages[0]["buttons"]


def test_long_clauses_are_cut_at_a_word():
    cut = quote("từ " * 300, limit=50)
    assert cut.endswith(" …") and len(cut) <= 52


def test_replaced_and_future_documents_are_labelled():
    old = LegalDocumentRow(number="60/2014/QH13", effective="2016-01-01", replaced_by="03/2026/QH16",
                           replaced_from="2027-03-01")
    new = LegalDocumentRow(number="03/2026/QH16", effective="2027-03-01")
    assert status_label(old, date(2026, 11, 25)) == ""
    assert "03/2026/QH16" in status_label(old, date(2027, 3, 2))
    assert "chưa áp dụng" in status_label(new, date(2026, 11, 25))
