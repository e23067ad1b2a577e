"""``motcua eval legal``: does the search cite the gold article for a legal question?

Reads lines ``{"question": str, "gold": [{"number": "60/2014/QH13", "article": "15"}, ...]}``
(optionally ``"id"``); ``"gold": []`` marks a question about law outside the library, which
the assistant should decline. Reports, for the questions as written and with every diacritic
removed:

- hit@1, hit@5 and MRR of a gold article among the cited articles (best first, one passage
  each, as the answer cites them; ranking without abstention), over answerable questions;
- what a citizen gets in one tap under the policy the dialogue uses
  (:data:`retrieval.decision.LEGAL_POLICY`): ``resolved`` (the answered article is gold, or a
  gold article is among the two or three offered), ``wrong_answer`` (a confident answer that
  is not gold), both over answerable questions; ``offered`` (share of all questions answered
  with choices); ``answerable_abstained`` (also under its old key ``abstained``) and
  ``abstention_recall`` (share of outside-library questions declined).

``on`` is the day the questions are about (default today).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from retrieval.decision import LEGAL_POLICY, DecisionPolicy, decide, distinct_articles
from retrieval.normalize import strip_diacritics

Article = tuple[str, str]  # (document number, article number)


@dataclass(frozen=True)
class LegalQuestion:
    question: str
    gold: tuple[Article, ...]  # empty: about law outside the library
    id: str = ""

    @property
    def answerable(self) -> bool:
        return bool(self.gold)


@dataclass(frozen=True)
class LegalResult:
    """One question: the rank of its first gold article and the move the assistant makes."""

    id: str
    question: str
    gold: tuple[Article, ...]
    rank: int | None
    move: str
    shown: tuple[Article, ...]
    confidence: float

    @property
    def resolved(self) -> bool:
        return self.move != "abstain" and bool(set(self.gold) & set(self.shown))

    @property
    def wrong_answer(self) -> bool:
        return self.move == "answer" and bool(self.gold) and not set(self.gold) & set(self.shown)

    def detail(self) -> dict[str, object]:
        return {"id": self.id, "question": self.question, "expected": [list(g) for g in self.gold],
                "move": self.move, "shown": [list(s) for s in self.shown],
                "confidence": round(self.confidence, 4), "resolved": self.resolved}


@dataclass(frozen=True)
class LegalFigures:
    questions: int  # answerable (grounded in an article of the library)
    hit_at_1: float
    hit_at_5: float
    mrr: float
    abstained: float = 0.0  # = answerable_abstained (kept for older readers)
    outside_library: int = 0
    resolved: float = 0.0
    wrong_answer: float = 0.0
    offered: float = 0.0
    answerable_abstained: float = 0.0
    abstention_recall: float = 0.0
    results: list[LegalResult] = field(default_factory=list, repr=False, compare=False)


def read_legal_questions(path: str | Path) -> list[LegalQuestion]:
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            listed = item["gold"]
            gold = tuple((str(g["number"]), str(g["article"])) for g in listed if g.get("article"))
            question = str(item["question"])
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"dòng {number} của {path} không đúng định dạng: {exc}") from exc
        if listed and not gold:
            continue  # gold documents without an article: nothing to score
        if question.strip():
            questions.append(LegalQuestion(question, gold, str(item.get("id") or f"line-{number}")))
    if not any(q.answerable for q in questions):
        raise ValueError(f"{path}: không có câu hỏi nào có điều luật chuẩn (gold)")
    return questions


def _article(hit) -> Article:
    return (hit.document, hit.article.removeprefix("Điều ").strip())


def result_of(question: LegalQuestion, text: str, hits: list, confidence: float,
              policy: DecisionPolicy = LEGAL_POLICY) -> LegalResult:
    """Score one question's ranked passages (several clauses of one article count once)."""
    articles = distinct_articles(hits)
    keys = [_article(hit) for hit in articles]
    gold = set(question.gold)
    rank = next((position for position, key in enumerate(keys, start=1) if key in gold), None)
    decision = decide(articles, confidence, policy)
    return LegalResult(question.id, text, question.gold, rank, decision.move,
                       tuple(_article(hit) for hit in decision.hits), confidence)


def _ratio(numerator: float, denominator: int) -> float:
    return round(numerator / denominator, 4) if denominator else 0.0


def figures_of(results: list[LegalResult]) -> LegalFigures:
    answerable = [r for r in results if r.gold]
    outside = [r for r in results if not r.gold]
    n = len(answerable)
    abstained = _ratio(sum(r.move == "abstain" for r in answerable), n)
    return LegalFigures(
        questions=n,
        hit_at_1=_ratio(sum(r.rank == 1 for r in answerable), n),
        hit_at_5=_ratio(sum(r.rank is not None and r.rank <= 5 for r in answerable), n),
        mrr=_ratio(sum(1 / r.rank for r in answerable if r.rank), n),
        abstained=abstained,
        outside_library=len(outside),
        resolved=_ratio(sum(r.resolved for r in answerable), n),
        wrong_answer=_ratio(sum(r.wrong_answer for r in answerable), n),
        offered=_ratio(sum(r.move == "offer" for r in results), len(results)),
        answerable_abstained=abstained,
        abstention_recall=_ratio(sum(r.move == "abstain" for r in outside), len(outside)),
        results=results,
    )


def score(search, questions: list[LegalQuestion], strip: bool = False, on=None,
          policy: DecisionPolicy = LEGAL_POLICY) -> LegalFigures:
    results = []
    for question in questions:
        text = strip_diacritics(question.question) if strip else question.question
        hits, confidence = search.rank_passages(text, depth=10, on=on)
        results.append(result_of(question, text, hits, confidence, policy))
    return figures_of(results)


def as_dict(figures: LegalFigures, details: bool = False) -> dict[str, object]:
    data = asdict(figures)
    data.pop("results")
    if details:
        data["details"] = [r.detail() for r in figures.results]
    return data


def evaluate_legal(search, questions: list[LegalQuestion], on=None, details: bool = False,
                   policy: DecisionPolicy = LEGAL_POLICY) -> dict[str, dict]:
    return {"as_written": as_dict(score(search, questions, on=on, policy=policy), details),
            "without_diacritics": as_dict(score(search, questions, True, on=on, policy=policy), details)}
