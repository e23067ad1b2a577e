"""Legal passages: article-level ranking, the text in force on the day, legal query wording,
the passage context, and ``motcua eval legal``'s figures. Small fictional laws, hashing
embedder: no model, no shared data."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest

from knowledge_base.legal_metadata import apply_metadata
from knowledge_base.legal_parser import parse_legal_text
from motcua.legal_eval import evaluate_legal, read_legal_questions
from retrieval.analysis import QueryAnalyzer
from retrieval.documents import library_passages, passage_quote
from retrieval.embedders import HashingEmbedder
from retrieval.hybrid import HybridIndex
from retrieval.legal_ranking import (
    NAMED_EXPLICITLY,
    clean_legal_question,
    document_name,
    legal_concepts,
    mentioned_documents,
    rank_articles,
)

OLD = """---
number: 10/2014/QH13
title: Luật Thử nghiệm
type: Luật
effective: 2015-01-01
---
Chương I
NHỮNG QUY ĐỊNH CHUNG

Điều 1. Phạm vi điều chỉnh
Luật này quy định về việc đăng ký nuôi ong.

Chương II
ĐĂNG KÝ NUÔI ONG

Mục 1
ĐĂNG KÝ LẦN ĐẦU

Điều 2. Thời hạn đăng ký
1. Trong thời hạn 30 ngày kể từ ngày bắt đầu nuôi, người nuôi phải đăng ký đàn ong.
2. Người nuôi nộp tờ khai theo mẫu.

Điều 3. Thẩm quyền đăng ký
Ủy ban nhân dân cấp xã nơi đặt đàn ong thực hiện đăng ký.
"""
NEW = (
    OLD.replace("10/2014/QH13", "20/2026/QH16")
    .replace("2015-01-01", "2027-03-01")
    .replace("30 ngày", "45 ngày")
)


@pytest.fixture(scope="module")
def index() -> HybridIndex:
    old, new = parse_legal_text(OLD), parse_legal_text(NEW)
    documents = apply_metadata([old, new], {"20/2026/QH16": {"replaces": ("10/2014/QH13",)}})
    index = HybridIndex(HashingEmbedder())
    index.build([p for d in documents for p in library_passages(d)])
    return index


def test_clause_passages_carry_article_title_chapter_and_section_as_context():
    (old,) = apply_metadata([parse_legal_text(OLD)], {})
    passages = {p.fields["key"]: p for p in library_passages(old)}
    clause = passages["10/2014/QH13#d2.k1"]
    assert clause.title == "Điều 2. Thời hạn đăng ký"
    assert (
        passage_quote(clause)
        == "Trong thời hạn 30 ngày kể từ ngày bắt đầu nuôi, người nuôi phải đăng ký đàn ong."
    )
    assert "Chương II. ĐĂNG KÝ NUÔI ONG" in clause.text and "Mục 1. ĐĂNG KÝ LẦN ĐẦU" in clause.text
    assert clause.fields["citation"] == "Khoản 1 Điều 2 Luật Thử nghiệm 2014"
    assert "10/2014/QH13#d2" not in passages  # an article with clauses is searched through its clauses
    assert "10/2014/QH13#d3" in passages  # one without clauses is a passage itself


def test_the_text_in_force_on_the_day_ranks_first_and_the_other_stays_searchable(index):
    question = "nuôi ong thì phải đăng ký trong bao lâu"
    before, _ = index.rank_passages(question, depth=5, on=date(2026, 1, 1))
    after, _ = index.rank_passages(question, depth=5, on=date(2027, 6, 1))
    assert (before[0].document, before[0].article) == ("10/2014/QH13", "Điều 2")
    assert (after[0].document, after[0].article) == ("20/2026/QH16", "Điều 2")
    assert {h.document for h in before} == {h.document for h in after} == {"10/2014/QH13", "20/2026/QH16"}
    assert before[0].citation == "Khoản 1 Điều 2 Luật Thử nghiệm 2014"
    assert before[0].key == "10/2014/QH13#d2.k1" and before[0].article_title == "Thời hạn đăng ký"


def test_a_text_named_with_its_year_or_as_the_new_one_is_asked_about_even_before_it_is_in_force(index):
    day = date(2026, 1, 1)  # the 2026 text is not in force yet
    for question in ("theo luật thử nghiệm 2026 nuôi ong phải đăng ký trong bao lâu",
                     "luat thu nghiem moi quy dinh dang ky nuoi ong trong bao lau"):
        hits, _ = index.rank_passages(question, depth=5, on=day)
        assert (hits[0].document, hits[0].article) == ("20/2026/QH16", "Điều 2"), question
        later, _ = index.rank_passages(question, depth=5, on=date(2027, 6, 1))
        assert hits[0].score == pytest.approx(later[0].score)  # not ranked lower for not being in force yet
    hits, _ = index.rank_passages("theo luật thử nghiệm nuôi ong phải đăng ký trong bao lâu", depth=5, on=day)
    assert hits[0].document == "10/2014/QH13"  # named without a year: the text in force


def test_document_names_keep_the_year_apart():
    names = [document_name(label) for label in ("Luật Hộ tịch 2014", "Luật Hộ tịch 2026",
                                                  "Nghị định 123/2015/NĐ-CP", "Luật Cư trú 2020")]
    assert names == ["luat ho tich|2014", "luat ho tich|2026", "nghi dinh 123", "luat cu tru|2020"]
    assert list(mentioned_documents("theo luat ho tich quy dinh".split(), names)) == [1, 1, 0, 0]
    assert list(mentioned_documents("luat ho tich nam 2014 ghi".split(), names)) == [NAMED_EXPLICITLY, 1, 0, 0]
    assert list(mentioned_documents("luat ho tich moi co cho".split(), names)) == [1, NAMED_EXPLICITLY, 0, 0]
    assert list(mentioned_documents("nghi dinh 123 va 2026".split(), names)) == [0, 0, 1, 0]


def test_passages_come_one_per_article_and_can_be_limited_to_documents(index):
    hits, _ = index.rank_passages("đăng ký đàn ong tờ khai thời hạn", depth=10, on=date(2026, 1, 1))
    keys = [(h.document, h.article) for h in hits]
    assert len(keys) == len(set(keys))
    within, _ = index.rank_passages("đăng ký đàn ong", depth=10, within=["20/2026/QH16"])
    assert within and {h.document for h in within} == {"20/2026/QH16"}


def test_article_score_adds_a_share_of_its_next_clauses():
    fused = np.array([1.0, 0.9, 0.8, 0.95], dtype=np.float32)
    articles = np.array([0, 1, 1, 2])
    assert list(rank_articles(fused, articles, spread=0.0).best_units) == [0, 3, 1]
    ranking = rank_articles(fused, articles, spread=0.5)
    assert list(ranking.best_units) == [1, 0, 3]  # 0.9 + 0.5·0.8 beats 1.0
    assert ranking.scores[0] == pytest.approx(1.3)
    assert rank_articles(np.full(3, -np.inf), np.arange(3)).best_units.size == 0


def test_legal_questions_lose_exam_wording_and_gain_the_concept_they_ask_for():
    assert (
        clean_legal_question("Thời hạn tạm trú tối đa là 02 năm, đúng hay sai?")
        == "Thời hạn tạm trú tối đa là 02 năm"
    )
    assert clean_legal_question("Nam 20 tuổi được kết hôn là đúng") == "Nam 20 tuổi được kết hôn"
    assert legal_concepts("chung thuc ban sao mat bao lau".split()) == ["thời hạn"]
    assert legal_concepts("xin giay o dau".split()) == ["thẩm quyền"]
    # how citizens ask about fees, penalties and where to go
    assert legal_concepts("dang ky ket hon co ton tien khong".split()) == ["lệ phí"]
    assert legal_concepts("xay nha khong phep bi phat the nao".split()) == ["thủ tục trình tự"]  # no «vi phạm»: mostly other law
    assert legal_concepts("lam can cuoc o xa nao".split()) == ["thẩm quyền"]
    assert legal_concepts("lam can cuoc".split()) == []
    analyzed = QueryAnalyzer().analyze_legal("Chứng thực bản sao mất bao lâu?")
    assert "thời" in analyzed.accented_terms and "hạn" in analyzed.accented_terms
    assert analyzed.dense_text.startswith(
        "Chứng thực bản sao bao lâu?"
    )  # the embedding reads the question as written, but for the «mất» of «takes» (no paper is lost)


def test_eval_legal_reports_hit_rates_with_and_without_diacritics(index, tmp_path):
    path = tmp_path / "q.jsonl"
    rows = [
        {
            "question": "nuôi ong thì phải đăng ký trong bao lâu",
            "gold": [{"number": "10/2014/QH13", "article": "2"}],
        },
        {"question": "cơ quan nào đăng ký nuôi ong", "gold": [{"number": "10/2014/QH13", "article": "3"}]},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    figures = evaluate_legal(index, read_legal_questions(path), on=date(2026, 1, 1))
    assert set(figures) == {"as_written", "without_diacritics"}
    assert figures["as_written"]["questions"] == 2
    assert figures["as_written"]["hit_at_5"] == 1.0
    assert 0.0 <= figures["as_written"]["abstained"] <= 1.0


def test_the_first_article_carries_its_lead_over_the_second_on_each_legal_signal(index):
    """What the legal answer model reads (``PassageHit.lead``): the first article's best clause's scaled
    signals minus the second article's, on the first hit only. The twin article of the replaced text says
    the same words, so it is behind on nothing but the day; a question naming the new law by its year
    leads on the document's mention."""
    from retrieval import fusion
    from retrieval.legal_ranking import LEGAL_LEAD_SIGNALS

    day = date(2026, 1, 1)
    question = "cơ quan nào đăng ký nuôi ong"
    first, second, *_ = index.rank_passages(question, depth=5, on=day)[0]
    assert [(first.document, first.article), (second.document, second.article)] == [
        ("10/2014/QH13", "Điều 3"), ("20/2026/QH16", "Điều 3")]
    group = index.group("passages")
    analyzed = index.analyzer.analyze(question)
    vector = index.embedder.embed_queries([analyzed.dense_text])[0]
    raw = fusion.passage_signals(group, index.analyzer.analyze_legal(question, analyzed), vector)
    at = [group.positions[first.document_id], group.positions[second.document_id]]
    assert set(first.lead) == set(LEGAL_LEAD_SIGNALS) and second.lead == {}
    for name in LEGAL_LEAD_SIGNALS:
        scaled = fusion.scaled_signal(name, raw[name])
        assert first.lead[name] == pytest.approx(float(scaled[at[0]] - scaled[at[1]]), abs=1e-6)
        assert first.lead[name] == pytest.approx(0.0, abs=1e-6)  # the same clause in the replaced text

    named, _ = index.rank_passages("luật thử nghiệm 2026 nuôi ong thẩm quyền", depth=5, on=day)
    assert (named[0].document, named[0].article, named[1].document) == ("20/2026/QH16", "Điều 3", "10/2014/QH13")
    assert named[0].lead["document_mention"] == pytest.approx(0.5)  # named with its year (2.0) vs by name (1.0), / 2.0
    assert sum(abs(v) for k, v in named[0].lead.items() if k != "document_mention") == pytest.approx(0.0, abs=1e-6)


def test_the_legal_answer_model_answers_on_the_first_articles_lead_and_offers_a_twin(index):
    """``decide`` with ``answer_leads`` reads the first article's lead: at the same policy, the question
    naming the new law is answered (certainty sigmoid(4 · 0.5) = 0.881 ≥ 0.75) and the one that does not,
    whose first two articles are twins, is offered (sigmoid(0) = 0.5); without the leads both are offered."""
    from retrieval.decision import DecisionPolicy, answer_certainty, decide, distinct_articles

    day = date(2026, 1, 1)
    policy = DecisionPolicy(answer_at=0.75, offer_at=0.3, max_choices=3, answer_model=(0.0, 0.0, 0.0, 0.0),
                            answer_leads=(("document_mention", 4.0),))
    named, named_confidence = index.rank_passages("luật thử nghiệm 2026 nuôi ong thẩm quyền", depth=10, on=day)
    twins, twins_confidence = index.rank_passages("cơ quan nào đăng ký nuôi ong", depth=10, on=day)
    assert min(named_confidence, twins_confidence) >= policy.offer_at
    sure = answer_certainty([h.score for h in named[:2]], named_confidence, policy.answer_model, named[0].lead,
                            policy.answer_leads)
    assert sure == pytest.approx(0.8808, abs=1e-4)
    answered = decide(distinct_articles(named), named_confidence, policy)
    assert answered.move == "answer" and (answered.hits[0].document, answered.hits[0].article) == (
        "20/2026/QH16", "Điều 3")
    offered = decide(distinct_articles(twins), twins_confidence, policy)
    assert offered.move == "offer"
    assert [(h.document, h.article) for h in offered.hits][:2] == [("10/2014/QH13", "Điều 3"), ("20/2026/QH16", "Điều 3")]
    without_leads = DecisionPolicy(answer_at=0.75, offer_at=0.3, max_choices=3, answer_model=(0.0, 0.0, 0.0, 0.0))
    assert decide(distinct_articles(named), named_confidence, without_leads).move == "offer"
