"""The one-tap figures (resolved, wrong answer, offered, abstention) on hand-made rankings.

A fake index returns fixed rankings, so each figure can be computed by hand: these tests pin
what ``motcua eval retrieval`` and ``motcua eval legal`` report under a decision policy.
"""

from __future__ import annotations

import json

import pytest

from motcua.legal_eval import evaluate_legal, read_legal_questions
from retrieval.decision import DecisionPolicy, decide, distinct_articles
from retrieval.evaluate import Question, evaluate
from retrieval.normalize import strip_diacritics
from retrieval.results import PassageHit, ProcedureHit

POLICY = DecisionPolicy(answer_at=0.6, offer_at=0.3, max_choices=3)


def _hits(*codes: str) -> list[ProcedureHit]:
    return [ProcedureHit(code, code, 1.0 - i / 10) for i, code in enumerate(codes)]


class FakeIndex:
    """``rank`` answers from a table (the question without diacritics maps to the same row)."""

    def __init__(self, table: dict[str, tuple[list, float]]):
        self.table = {strip_diacritics(k): v for k, v in table.items()}

    def rank(self, query: str):
        return self.table[strip_diacritics(query)]

    def rank_passages(self, query: str, depth: int = 10, on=None):
        return self.table[strip_diacritics(query)]


def test_procedure_figures_follow_the_move():
    index = FakeIndex({
        "right answer": (_hits("A", "B"), 0.9),  # answer A, gold A → resolved
        "wrong answer": (_hits("B", "A"), 0.9),  # answer B, gold A → wrong
        "offer has it": (_hits("B", "C", "A", "D"), 0.4),  # offer B, C, A → resolved
        "offer misses": (_hits("B", "C", "D", "A"), 0.4),  # offer B, C, D (max 3) → not resolved
        "abstained": (_hits("A"), 0.1),  # abstain on an answerable question
        "chit chat": (_hits("Z"), 0.05),  # [] abstained → right
        "weather": (_hits("Y", "X"), 0.45),  # [] offered choices → not abstained
    })
    questions = [Question(q, q, ("A",)) for q in ("right answer", "wrong answer", "offer has it", "offer misses",
                                                   "abstained")]
    questions += [Question("chit chat", "chit chat"), Question("weather", "weather")]
    report = evaluate(index, questions, policy=POLICY)
    for figures in (report.as_written, report.without_diacritics):
        assert figures.answerable == 5 and figures.unanswerable == 2
        assert figures.resolved == pytest.approx(2 / 5)
        assert figures.wrong_answer == pytest.approx(1 / 5)
        assert figures.offered == pytest.approx(3 / 7)
        assert figures.answerable_abstained == pytest.approx(1 / 5)
        assert figures.abstention_recall == pytest.approx(1 / 2)
        assert figures.abstention_precision == pytest.approx(1 / 2)
        assert figures.hit_at_1 == pytest.approx(2 / 5)  # ranking figures ignore the move
        assert figures.end_to_end_hit_at_1 == pytest.approx(1 / 5)
    data = report.to_dict(details=True)
    rows = {row["id"]: row for row in data["as_written"]["details"]}
    assert rows["offer has it"] == {"id": "offer has it", "question": "offer has it", "expected": ["A"],
                                    "move": "offer", "shown": ["B", "C", "A"], "confidence": 0.4, "resolved": True}
    assert rows["wrong answer"]["move"] == "answer" and rows["wrong answer"]["resolved"] is False
    assert rows["chit chat"]["move"] == "abstain" and rows["chit chat"]["shown"] == []
    assert "details" not in report.to_dict()["as_written"]
    for key in ("resolved", "wrong_answer", "offered", "answerable_abstained", "abstention_recall", "hit_at_1"):
        assert key in data["without_diacritics"]


def _passage(document: str, article: str, score: float) -> PassageHit:
    return PassageHit(document, f"Điều {article}", "…", score)


def test_legal_figures_count_articles_once_and_the_outside_questions(tmp_path):
    index = FakeIndex({
        # two clauses of article 5 first: the choices are articles 5, 7, 9, not 5 twice
        "hỏi một": ([_passage("L", "5", 0.9), _passage("L", "5", 0.8), _passage("L", "7", 0.7),
                     _passage("L", "9", 0.6)], 0.4),
        "hỏi hai": ([_passage("L", "2", 0.9), _passage("L", "3", 0.5)], 0.8),  # answer 2, gold 3 → wrong
        "ngoài thư viện": ([_passage("L", "1", 0.5)], 0.1),
    })
    lines = [
        {"id": "q1", "question": "hỏi một", "gold": [{"number": "L", "article": "9"}]},
        {"id": "q2", "question": "hỏi hai", "gold": [{"number": "L", "article": "3"}]},
        {"id": "q3", "question": "ngoài thư viện", "gold": []},
    ]
    path = tmp_path / "legal.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines), encoding="utf-8")
    questions = read_legal_questions(path)
    assert [q.answerable for q in questions] == [True, True, False]
    figures = evaluate_legal(index, questions, details=True, policy=POLICY)
    for half in ("as_written", "without_diacritics"):
        f = figures[half]
        assert (f["questions"], f["outside_library"]) == (2, 1)
        assert f["hit_at_1"] == 0.0 and f["hit_at_5"] == 1.0 and f["mrr"] == pytest.approx(round((1 / 3 + 1 / 2) / 2, 4))
        assert f["resolved"] == 0.5 and f["wrong_answer"] == 0.5
        assert f["offered"] == pytest.approx(round(1 / 3, 4))
        assert f["answerable_abstained"] == 0.0 == f["abstained"]
        assert f["abstention_recall"] == 1.0
    q1 = figures["as_written"]["details"][0]
    assert q1["move"] == "offer" and q1["shown"] == [["L", "5"], ["L", "7"], ["L", "9"]] and q1["resolved"]


def test_distinct_articles_keeps_the_best_clause_of_each():
    hits = [_passage("L", "5", 0.9), _passage("L", "5", 0.8), _passage("M", "5", 0.7)]
    assert distinct_articles(hits) == [hits[0], hits[2]]


def test_decide_moves():
    assert decide(_hits("A", "B"), 0.9, POLICY).move == "answer"
    offer = decide(_hits("A", "B", "C", "D", "E"), 0.4, POLICY)
    assert offer.move == "offer" and [h.code for h in offer.hits] == ["A", "B", "C"]
    assert decide(_hits("A", "B"), 0.1, POLICY).hits == ()


def test_the_answer_model_reads_the_first_scores():
    """With an answer model, a clear lead of the first hit answers even at a middling confidence,
    and a tie between the first two is offered even at a high one."""
    model = DecisionPolicy(answer_at=0.5, offer_at=0.3, answer_model=(-3.0, 0.0, 0.0, 20.0))
    lead = [ProcedureHit("A", "A", 0.9), ProcedureHit("B", "B", 0.3)]
    tie = [ProcedureHit("A", "A", 0.9), ProcedureHit("B", "B", 0.89)]
    assert decide(lead, 0.4, model).move == "answer"
    assert decide(tie, 0.95, model).move == "offer"
    assert decide(tie, 0.2, model).move == "abstain"  # the confidence still decides abstention
    plain = DecisionPolicy(answer_at=0.5, offer_at=0.3)
    assert decide(lead, 0.4, plain).move == "offer" and decide(tie, 0.95, plain).move == "answer"


def test_the_chosen_policies_are_valid_and_abstain_below_their_floor():
    from retrieval.decision import LEGAL_POLICY, PROCEDURE_POLICY
    from retrieval.service import LEGAL_POLICY as SERVICE_LEGAL
    from retrieval.service import PROCEDURE_POLICY as SERVICE_PROCEDURE

    assert (SERVICE_PROCEDURE, SERVICE_LEGAL) == (PROCEDURE_POLICY, LEGAL_POLICY)
    assert LEGAL_POLICY.max_choices == 3 and PROCEDURE_POLICY.max_choices == 4
    for policy in (PROCEDURE_POLICY, LEGAL_POLICY):
        assert decide(_hits("A", "B"), policy.offer_at - 0.01, policy).move == "abstain"
        assert decide(_hits("A", "B"), 0.999, policy).move == "answer"


def test_the_answer_model_reads_the_first_hits_lead_on_single_signals():
    """A first hit a hair ahead whose name the question says less of than the second's (a sibling) is
    offered; one that leads on the names is answered — at the same scores and confidence."""
    model = DecisionPolicy(answer_at=0.5, offer_at=0.3, answer_model=(0.0, 0.0, 0.0, 0.0),
                           answer_leads=(("names_coverage", 4.0), ("dense_names", 2.0)))
    sibling = [ProcedureHit("A", "A", 0.8, lead={"names_coverage": -0.4, "dense_names": 0.05}),
               ProcedureHit("B", "B", 0.79)]
    named = [ProcedureHit("A", "A", 0.8, lead={"names_coverage": 0.4, "dense_names": 0.05}),
             ProcedureHit("B", "B", 0.79)]
    assert decide(sibling, 0.9, model).move == "offer"
    assert decide(named, 0.9, model).move == "answer"
    no_leads = [ProcedureHit("A", "A", 0.8), ProcedureHit("B", "B", 0.79)]  # a ranking read back: 0 each
    assert decide(no_leads, 0.9, model).move == "answer"  # sigmoid(0) = 0.5: at the threshold
    assert decide(sibling, 0.2, model).move == "abstain"  # the confidence still decides abstention


def test_the_chosen_procedure_policy_reads_every_lead_signal_the_search_gives():
    from retrieval.decision import PROCEDURE_POLICY
    from retrieval.fusion import LEAD_SIGNALS

    assert {name for name, _ in PROCEDURE_POLICY.answer_leads} <= set(LEAD_SIGNALS)
