"""Retrieval quality on labelled questions: hit@1, hit@5, MRR, and what a citizen gets in one tap.

Question files hold one JSON object a line: ``{"id": str, "question": str, "expected":
[codes]}``; ``expected`` lists the catalogue codes that answer the question (any of them
counts as a hit) or is empty when the right behaviour is to abstain.

Ranking figures (hit@k, MRR) are computed on the ranking itself, abstention aside; the
abstention figures say how often the index abstained on each kind of question.
``end_to_end_hit_at_1`` counts an abstention on an answerable question as a miss.

The assistant answers, offers choices or abstains (:func:`retrieval.decision.decide`, with the
policy the dialogue uses), so the figures that say what a citizen gets follow that move:
``resolved`` (the answer is right, or a right procedure is among the choices, over answerable
questions), ``wrong_answer`` (a confident answer that is wrong, over answerable), ``offered``
(share of all questions answered with choices); ``answerable_abstained`` and
``abstention_recall`` count the decision's abstentions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from retrieval.decision import PROCEDURE_POLICY, Decision, DecisionPolicy, Move, decide
from retrieval.normalize import strip_diacritics
from retrieval.results import ProcedureHit


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    expected: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return bool(self.expected)


class RankingIndex(Protocol):
    def rank(self, query: str) -> tuple[list[ProcedureHit], float]: ...


def read_questions(path: str | Path) -> list[Question]:
    """Read a question file; raises ``ValueError`` naming the file and line on bad input."""
    path = Path(path)
    questions: list[Question] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{where}: không phải JSON hợp lệ (invalid JSON): {error}") from error
            if not isinstance(data, dict):
                raise ValueError(f"{where}: mỗi dòng phải là một đối tượng JSON (expected an object)")
            missing = [k for k in ("id", "question", "expected") if k not in data]
            if missing:
                raise ValueError(f"{where}: thiếu trường {missing} (missing keys)")
            qid, text, expected = data["id"], data["question"], data["expected"]
            if not isinstance(qid, str) or not qid.strip():
                raise ValueError(f"{where}: 'id' phải là chuỗi không rỗng")
            if qid in seen:
                raise ValueError(f"{where}: id {qid!r} bị trùng (duplicate id)")
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{where}: 'question' phải là chuỗi không rỗng")
            if not isinstance(expected, list) or not all(isinstance(c, str) and c.strip() for c in expected):
                raise ValueError(f"{where}: 'expected' phải là danh sách mã thủ tục (list of code strings)")
            seen.add(qid)
            questions.append(Question(id=qid, question=text, expected=tuple(expected)))
    return questions


@dataclass
class QuestionResult:
    id: str
    question: str
    expected: tuple[str, ...]
    ranked: list[str]  # codes, best first
    rank: int | None  # 1-based rank of the first expected code, None if absent
    confidence: float
    abstained: bool
    move: Move = "abstain"
    shown: list[str] = field(default_factory=list)  # the answer (one code), the choices, or nothing

    @property
    def resolved(self) -> bool:
        """The citizen reaches a right procedure in one tap: answered right, or it is offered."""
        return bool(set(self.expected) & set(self.shown)) and self.move != "abstain"

    @property
    def wrong_answer(self) -> bool:
        return self.move == "answer" and bool(self.expected) and not set(self.expected) & set(self.shown)

    def detail(self) -> dict[str, object]:
        return {"id": self.id, "question": self.question, "expected": list(self.expected), "move": self.move,
                "shown": self.shown, "confidence": round(self.confidence, 4), "resolved": self.resolved}


@dataclass
class EvalFigures:
    answerable: int
    unanswerable: int
    hit_at_1: float
    hit_at_5: float
    mrr: float
    answerable_abstained: float  # share of answerable questions abstained on (want < 0.10)
    abstention_recall: float  # share of [] questions abstained on (want ≥ 0.85)
    abstention_precision: float  # share of abstentions that were [] questions
    end_to_end_hit_at_1: float  # hit@1 counting an abstention as a miss
    resolved: float = 0.0  # answerable: right answer, or a right procedure among the choices (want ≥ 0.92)
    wrong_answer: float = 0.0  # answerable: a confident answer that is wrong (want ≤ 0.05)
    offered: float = 0.0  # all questions: answered with choices (want ≤ 0.25)
    results: list[QuestionResult] = field(default_factory=list, repr=False)

    def summary(self) -> str:
        return (
            f"hit@1 {self.hit_at_1:.3f}  hit@5 {self.hit_at_5:.3f}  MRR {self.mrr:.3f}  "
            f"abstain[] {self.abstention_recall:.2f} (precision {self.abstention_precision:.2f})  "
            f"abstain-answerable {self.answerable_abstained:.2f}  e2e-hit@1 {self.end_to_end_hit_at_1:.3f}  "
            f"resolved {self.resolved:.3f}  wrong {self.wrong_answer:.3f}  offered {self.offered:.3f}  "
            f"(n={self.answerable}+{self.unanswerable})"
        )


@dataclass
class EvalReport:
    as_written: EvalFigures
    without_diacritics: EvalFigures
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"as written:         {self.as_written.summary()}\n"
            f"without diacritics: {self.without_diacritics.summary()}"
        )

    def to_dict(self, details: bool = False) -> dict[str, object]:
        """The figures; with ``details``, each half also lists its questions (``details``)."""
        data = asdict(self)
        for key in ("as_written", "without_diacritics"):
            data[key].pop("results")  # type: ignore[union-attr]
            if details:
                figures: EvalFigures = getattr(self, key)
                data[key]["details"] = [r.detail() for r in figures.results]  # type: ignore[index]
        return data


def _ratio(numerator: float, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def result_of(question: Question, hits: Sequence[ProcedureHit], confidence: float, policy: DecisionPolicy,
              depth: int = 10) -> QuestionResult:
    """One question's ranking and the move the assistant makes on it."""
    ranked = [h.code for h in hits[:depth]]
    expected = set(question.expected)
    rank = next((i + 1 for i, code in enumerate(ranked) if code in expected), None)
    decision: Decision[ProcedureHit] = decide(hits, confidence, policy)
    return QuestionResult(
        id=question.id, question=question.question, expected=question.expected, ranked=ranked, rank=rank,
        confidence=confidence, abstained=decision.move == "abstain", move=decision.move,
        shown=[h.code for h in decision.hits],
    )


def figures_of(results: Sequence[QuestionResult]) -> EvalFigures:
    """The figures of scored questions (see the module docstring)."""
    answerable = [r for r in results if r.expected]
    unanswerable = [r for r in results if not r.expected]
    abstentions = [r for r in results if r.abstained]
    return EvalFigures(
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        hit_at_1=_ratio(sum(r.rank == 1 for r in answerable), len(answerable)),
        hit_at_5=_ratio(sum(r.rank is not None and r.rank <= 5 for r in answerable), len(answerable)),
        mrr=_ratio(sum(1.0 / r.rank for r in answerable if r.rank), len(answerable)),
        answerable_abstained=_ratio(sum(r.abstained for r in answerable), len(answerable)),
        abstention_recall=_ratio(sum(r.abstained for r in unanswerable), len(unanswerable)),
        abstention_precision=_ratio(sum(not r.expected for r in abstentions), len(abstentions)),
        end_to_end_hit_at_1=_ratio(sum(r.rank == 1 and not r.abstained for r in answerable), len(answerable)),
        resolved=_ratio(sum(r.resolved for r in answerable), len(answerable)),
        wrong_answer=_ratio(sum(r.wrong_answer for r in answerable), len(answerable)),
        offered=_ratio(sum(r.move == "offer" for r in results), len(results)),
        results=list(results),
    )


def score_questions(index: RankingIndex, questions: Sequence[Question], depth: int = 10,
                    policy: DecisionPolicy = PROCEDURE_POLICY) -> EvalFigures:
    results = []
    for question in questions:
        hits, confidence = index.rank(question.question)
        results.append(result_of(question, hits, confidence, policy, depth))
    return figures_of(results)


def evaluate(index: RankingIndex, questions: Sequence[Question],
             policy: DecisionPolicy = PROCEDURE_POLICY) -> EvalReport:
    """Figures for the questions as written and with every diacritic removed, under ``policy``."""
    if not questions:
        raise ValueError("không có câu hỏi nào để đánh giá (no questions)")
    started = time.perf_counter()
    as_written = score_questions(index, questions, policy=policy)
    stripped = [Question(q.id, strip_diacritics(q.question), q.expected) for q in questions]
    without = score_questions(index, stripped, policy=policy)
    return EvalReport(
        as_written=as_written, without_diacritics=without, seconds=time.perf_counter() - started
    )
