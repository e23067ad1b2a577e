"""The legal answer quotes the clause with its citation and a link to the whole article,
prefers the text in force on the day, offers the procedure acting on it, or says honestly
it found nothing.

The index is real (BM25 + a hashing embedder, so no model download) over the shared Luật
Hộ tịch 2014 and 2026, read where they live; nothing is copied here.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import Aspect, answer
from actions.knowledge import KnowledgeBase
from actions.legal import NOT_FOUND, ActionAnswerLegal, lead_sentence, legal_basis_links, quote, status_label
from actions.legal_links import number_key, procedures_acting_on
from knowledge_base.ingest import ingest_legal_files
from knowledge_base.messages import render
from knowledge_base.schema import LegalReference, Procedure
from knowledge_base.store import LegalDocumentRow, save_procedure
from motcua.db import session_scope
from motcua.search_index import legal_passages
from retrieval.embedders import HashingEmbedder
from retrieval.results import SearchResponse
from retrieval.service import RetrievalService, documents_from

BEFORE = date(2026, 11, 25)
AFTER = date(2027, 3, 2)
BIRTH = Procedure(
    code="1.001193",
    name="Thủ tục đăng ký khai sinh",
    levels=["Cấp xã"],
    field="Hộ tịch",
    legal_basis=[
        LegalReference("60/2014/QH13", "Luật Hộ tịch"),
        LegalReference("123/2015/ND-CP", "Nghị định 123/2015"),
    ],
)
MARRIAGE = Procedure(
    code="1.000894",
    name="Thủ tục đăng ký kết hôn",
    levels=["Cấp xã"],
    field="Hộ tịch",
    legal_basis=[LegalReference("60/2014/QH13", "Luật Hộ tịch")],
)


def _tracker(text: str) -> Tracker:
    return Tracker(
        "s", {}, {"text": text, "intent": {"name": "ask_legal"}, "entities": []}, [], False, None, {}, ""
    )


@pytest.fixture
def knowledge(shared_data: Path, database_url: str, tmp_path: Path) -> KnowledgeBase:
    files = [shared_data / "legal" / "60-2014-QH13.md", shared_data / "legal" / "03-2026-QH16.md"]
    if not all(f.exists() for f in files):
        pytest.skip("thiếu Luật Hộ tịch trong dữ liệu dùng chung (shared civil status laws absent)")
    assert all(o.ok for o in ingest_legal_files(database_url, files))
    with session_scope(database_url) as session:
        save_procedure(session, BIRTH, actor="test")
        save_procedure(session, MARRIAGE, actor="test")
        passages = legal_passages(session)
    kb = KnowledgeBase(database_url)
    kb.warm_up()
    service = RetrievalService(embedder=HashingEmbedder(), cache_dir=tmp_path / "cache")
    service.build(documents_from([BIRTH, MARRIAGE], (), passages), tmp_path / "index")
    kb.search = service
    return kb


async def _ask(knowledge, text: str, day: date) -> dict:
    dispatcher = CollectingDispatcher()
    await ActionAnswerLegal(knowledge, today=lambda: day).run(dispatcher, _tracker(text), {})
    (message,) = dispatcher.messages
    return message


@pytest.mark.shared_data
async def test_a_legal_question_gets_the_clause_its_citation_and_a_link_to_the_article(knowledge):
    message = await _ask(
        knowledge, "Sinh con xong thì trong bao lâu cha mẹ phải đi đăng ký khai sinh cho con?", BEFORE
    )
    text = message["text"]
    assert text.startswith("Theo Khoản 1 Điều 15 Luật Hộ tịch 2014:"), text
    assert "Trong thời hạn 60 ngày kể từ ngày sinh con" in text
    assert "Xem toàn văn Điều 15: /phap-luat/60-2014-QH13/15" in text
    assert "Lưu ý" not in text  # in force on that day
    assert message["custom"]["legal"]["citation"] == "Khoản 1 Điều 15 Luật Hộ tịch 2014"
    assert message["custom"]["legal"]["url"] == "/phap-luat/60-2014-QH13/15"
    # the procedure acting on that law, most similar to the question first, then a person
    assert message["buttons"][0]["title"] == "Thủ tục: Thủ tục đăng ký khai sinh"
    assert message["buttons"][-1] == {"title": "Gặp cán bộ", "payload": "/request_human"}


@pytest.mark.shared_data
async def test_the_law_in_force_on_the_day_is_preferred_and_the_other_is_labelled(knowledge):
    question = "Đăng ký khai sinh cho con trong thời hạn bao lâu kể từ ngày sinh?"
    before = await _ask(knowledge, question, BEFORE)
    after = await _ask(knowledge, question, AFTER)
    assert before["custom"]["legal"]["document"] == "60/2014/QH13", before["text"]
    assert after["custom"]["legal"]["document"] == "03/2026/QH16", after["text"]
    assert after["custom"]["legal"]["in_force"] is True
    # asked about the old law explicitly after it was replaced: still answered, but labelled
    search = knowledge.search
    response = search.search(question, top_k=5, kinds=("passage",), on=AFTER)  # same rank, same label
    assert {p.document for p in response.passages} >= {"03/2026/QH16"}
    with session_scope(knowledge.database_url) as session:
        old = session.query(LegalDocumentRow).filter_by(number="60/2014/QH13").one()
        assert "đã được thay thế bởi 03/2026/QH16 từ ngày 01/03/2027" in status_label(old, AFTER)
        assert status_label(old, BEFORE) == ""
        new = session.query(LegalDocumentRow).filter_by(number="03/2026/QH16").one()
        assert "chưa áp dụng" in status_label(new, BEFORE)


@pytest.mark.shared_data
def test_legal_basis_answer_lists_the_linked_articles_with_read_links(knowledge):
    links = legal_basis_links(knowledge, BIRTH)
    assert [link.number for link in links] == ["60/2014/QH13", "123/2015/ND-CP"]
    law, decree = links
    assert law.in_library and law.label == "Luật Hộ tịch 2014"
    assert law.articles and any(a.article in {"13", "14", "15", "16"} for a in law.articles), law.articles
    assert not decree.in_library and decree.articles == ()  # not ingested in this test
    text = answer(BIRTH, Aspect.LEGAL_BASIS, links).text
    assert "• Luật Hộ tịch 2014 (60/2014/QH13)" in text
    assert f"/phap-luat/60-2014-QH13/{law.articles[0].article}" in text
    assert "Nghị định 123/2015 (123/2015/ND-CP)" in text
    # documents the library holds come first, whatever the catalogue's order
    fees = LegalReference("85/2019/TT-BTC", "Thông tư về phí và lệ phí")
    reordered = Procedure(code="x", name=BIRTH.name, legal_basis=[fees, *BIRTH.legal_basis])
    assert [link.number for link in legal_basis_links(knowledge, reordered)][0] == "60/2014/QH13"


async def test_when_nothing_is_found_it_says_so_and_offers_staff(database_url):
    class Abstaining:
        def search(self, query, top_k=5, kinds=None, on=None):
            return SearchResponse(query=query, abstained=True)

    kb = KnowledgeBase(database_url)
    kb.search = Abstaining()
    dispatcher = CollectingDispatcher()
    await ActionAnswerLegal(kb).run(dispatcher, _tracker("luật về khai thác khoáng sản trên sao Hỏa"), {})
    assert dispatcher.messages[0]["text"] == render(NOT_FOUND)
    assert "không tìm thấy quy định" in render(NOT_FOUND)
    assert {"title": "Gặp cán bộ", "payload": "/request_human"} in dispatcher.messages[0]["buttons"]


def test_long_clauses_are_cut_at_a_word():
    cut = quote("từ " * 300, limit=50)
    assert cut.endswith(" …") and len(cut) <= 52


def test_a_long_clause_gets_its_own_most_relevant_sentence_as_lead_and_a_short_one_none():
    clause = (
        "Người có yêu cầu đăng ký khai sinh nộp tờ khai theo mẫu quy định và giấy chứng sinh cho cơ quan "
        "đăng ký hộ tịch. Trường hợp không có giấy chứng sinh thì nộp văn bản của người làm chứng xác nhận "
        "về việc sinh; nếu không có người làm chứng thì phải có giấy cam đoan về việc sinh. Trường hợp "
        "khai sinh cho trẻ em bị bỏ rơi phải có biên bản xác nhận việc trẻ bị bỏ rơi do cơ quan có thẩm "
        "quyền lập."
    )
    lead = lead_sentence("không có giấy chứng sinh thì làm sao", clause)
    assert lead.startswith("Trường hợp không có giấy chứng sinh thì nộp văn bản của người làm chứng")
    assert lead in " ".join(clause.split()) or lead.rstrip(".") in clause  # the law's own words
    assert lead_sentence("giấy chứng sinh", "Người đi khai sinh nộp giấy chứng sinh.") == ""


def test_procedures_acting_on_a_document_follow_the_search_ranking():
    chosen = procedures_acting_on(["60/2014/QH13"], [BIRTH, MARRIAGE], ranked_codes=["1.000894", "1.001193"])
    assert [p.code for p in chosen] == ["1.000894", "1.001193"]
    assert procedures_acting_on(["31/2024/QH15"], [BIRTH, MARRIAGE]) == []
    assert number_key("123/2015/NĐ-CP") == number_key("123/2015/nd-cp ")


@pytest.mark.shared_data
async def test_a_tapped_article_is_found_again_in_its_document_and_quoted(knowledge):
    """The answering action's article button (``/ask_legal{"legal_article": "<number>|<article>"}``)
    answers that very article from the real index, with the procedure button it acts on."""
    from actions.answering import ActionAnswer

    payload = "60/2014/QH13|Điều 15"
    latest = {"text": f'/ask_legal{{"legal_article": "{payload}"}}', "intent": {"name": "ask_legal"},
              "entities": [{"entity": "legal_article", "value": payload}]}
    dispatcher = CollectingDispatcher()
    action = ActionAnswer(knowledge, ActionAnswerLegal(knowledge, today=lambda: BEFORE), today=lambda: BEFORE)
    await action.run(dispatcher, Tracker("s", {}, latest, [], False, None, {}, ""), {})
    (message,) = dispatcher.messages
    assert message["custom"]["legal"]["document"] == "60/2014/QH13"
    assert message["custom"]["legal"]["article"] == "Điều 15"
    assert message["text"].startswith("Theo ") and "Điều 15 Luật Hộ tịch 2014" in message["text"]
    assert message["buttons"][-1] == {"title": "Gặp cán bộ", "payload": "/request_human"}


@pytest.mark.shared_data
async def test_the_procedure_button_of_a_legal_answer_carries_the_procedure_code(knowledge):
    message = await _ask(knowledge, "Sinh con xong thì trong bao lâu cha mẹ phải đi đăng ký khai sinh cho con?", BEFORE)
    assert message["buttons"][0]["payload"] == '/ask_procedure{"procedure_code": "1.001193"}'
