"""What the assistant does with a search: answer, offer choices, or abstain.

The search ranks procedures (or legal articles) and gives a calibrated confidence. A citizen is
served best when the assistant

- **answers** when it is confident the first hit is right,
- **offers choices** — two to four concrete procedures or articles as buttons — when the right one
  is probably among the first few but the first is not sure enough,
- **abstains** (says so, offers staff and a queue number) when nothing is likely to be right.

:func:`decide` is plain Python over the ranked hits, so the dialogue (``actions/``), the evaluation
(``retrieval.evaluate``) and the benchmarks make the same choice. The thresholds are a
:class:`DecisionPolicy`; they are chosen on the tuning half of ``tests/data`` only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

Move = Literal["answer", "offer", "abstain"]
Hit = TypeVar("Hit")


@dataclass(frozen=True)
class DecisionPolicy:
    """``answer_at``: the confidence from which the first hit is answered; ``offer_at``: from which
    choices are offered (below it the assistant abstains); choices are the hits whose score is at
    least ``choice_floor`` × the first hit's score, ``min_choices`` to ``max_choices`` of them."""

    answer_at: float = 0.5
    offer_at: float = 0.2
    choice_floor: float = 0.0
    min_choices: int = 2
    max_choices: int = 4
    answer_model: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 0.0)
    """How sure the first hit is right: sigmoid(bias + a·logit(confidence) + b·score₁ + c·(score₁ − score₂)).

    The confidence says whether *anything* answers (it separates no-procedure questions well); the
    first hit's score and its lead over the second say better whether the *first* is the one. The
    default ``(0, 1, 0, 0)`` is the confidence itself."""
    answer_leads: tuple[tuple[str, float], ...] = ()
    """More terms of the answer model: (signal, weight) — the first hit's lead over the second on that
    signal (``hit.lead``: :data:`retrieval.fusion.LEAD_SIGNALS` for procedures,
    :data:`retrieval.legal_ranking.LEGAL_LEAD_SIGNALS` for articles), times the weight. A hit without leads
    (a ranking read back from a file) counts 0 for each."""

    def __post_init__(self) -> None:
        if not (0.0 <= self.offer_at <= 1.0 and 0.0 <= self.answer_at <= 1.0):
            raise ValueError("need offer_at and answer_at in [0, 1]")
        if not 2 <= self.min_choices <= self.max_choices:
            raise ValueError("need 2 ≤ min_choices ≤ max_choices")
        if not 0.0 <= self.choice_floor <= 1.0:
            raise ValueError("choice_floor must be in [0, 1]")


@dataclass(frozen=True)
class Decision(Generic[Hit]):
    """``hits``: the answer (one hit), the choices (two to four) or nothing (abstain)."""

    move: Move
    hits: tuple[Hit, ...] = field(default_factory=tuple)
    confidence: float = 0.0

    @property
    def answer(self) -> Hit | None:
        return self.hits[0] if self.move == "answer" else None


PROCEDURE_POLICY = DecisionPolicy(
    answer_at=0.625, offer_at=0.575, answer_model=(-3.007, 0.647, 1.331, 0.824),
    answer_leads=(("names_coverage", 1.74), ("dense_names", 1.724), ("title_coverage", 1.011),
                  ("full_accented", 0.698), ("dense_summary", 1.562)))
"""Answer, offer or abstain for procedures. Chosen on the tuning half of ``tests/data`` only, with the
confidence model it reads (``python -m retrieval.dev.confidence_fit``): the confidence («a right
procedure is among the four») decides between offering and abstaining; the answer model (the
confidence, the first hit's score and its lead over the second) decides whether to answer — a sibling
procedure a hair behind the first is offered, not answered. Four folds by procedure, each fitted on its
own three folds, chose answer_at 0.625–0.675 and offer_at 0.5–0.6; the answer model cut confident wrong
procedures from 0.11–0.12 to 0.085–0.09 there. Refitted the same way on 2026-12-07 when the ranking
began to read each name of a procedure on its own (before: answer_at 0.65, answer model
(-1.899, 0.547, 1.291, 3.977)). Then (2026-12-07) the answer model also reads the first hit's lead over
the second on single signals (``answer_leads``: a sibling ahead by a hair whose extra words the question
does not say leads on none of them): fitted with its thresholds on the tuning half
(``retrieval/dev/answer_model_cv.py --hard-ceiling --offer-ceiling 0.234``: thresholds chosen with offers
capped at the tune half's share; four folds: resolved − wrong +0.025, offered +0.004 / +0.016). A first
variant, thresholds chosen with offers as one target among the others, failed on the fourth fresh set (more
offers); this one was kept by the fifth (``bench/results/answer_model_decision.json``). Before: answer_at
0.675, answer model (-2.741, 0.574, 1.81, 3.905), no leads."""
LEGAL_POLICY = DecisionPolicy(answer_at=0.575, offer_at=0.375, max_choices=3,
                              answer_model=(-2.019, 0.686, 2.21, 2.776))
"""The same for legal articles (offered by title, two or three). The answer model, fitted on the
tuning half, cut confident wrong articles from 0.19 to 0.14 on held-out folds (more are offered instead).
It reads no ``answer_leads``: the first article's lead over the second on single signals
(``PassageHit.lead``) was tried on 2026-12-07 and lost on the tuning half's folds, at today's offer share and
with offers capped at 0.25 (``retrieval/dev/legal_answer_model_cv.py``,
``bench/results/legal_answer_model_decision.json``)."""


def distinct_articles(hits: Sequence[Hit]) -> list[Hit]:
    """One hit an article (its first, best clause): choices must be different articles, not
    two clauses of the same one."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for hit in hits:
        key = (getattr(hit, "document", ""), getattr(hit, "article", "").removeprefix("Điều ").strip())
        if key not in seen:
            seen.add(key)
            kept.append(hit)
    return kept


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def answer_certainty(scores: Sequence[float], confidence: float, model: tuple[float, float, float, float],
                     leads: Mapping[str, float] | None = None, lead_weights: Sequence[tuple[str, float]] = ()) -> float:
    """The probability the first hit is right, from the confidence, the first two scores and the first's
    lead over the second on single signals (``leads``, weighted by ``lead_weights``)."""
    bias, a, b, c = model
    if (bias, a, b, c) == (0.0, 1.0, 0.0, 0.0) and not lead_weights:
        return confidence
    first = scores[0] if scores else 0.0
    second = scores[1] if len(scores) > 1 else 0.0
    x = bias + a * _logit(confidence) + b * first + c * (first - second)
    x += sum(weight * (leads or {}).get(name, 0.0) for name, weight in lead_weights)
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


def decide(hits: Sequence[Hit], confidence: float, policy: DecisionPolicy,
           score=lambda hit: getattr(hit, "score", 0.0)) -> Decision[Hit]:
    """The move for ``hits`` (best first) searched with ``confidence``: abstain below ``offer_at``
    (nothing is likely to answer), answer when the first hit is sure enough, else offer."""
    if not hits or confidence < policy.offer_at:
        return Decision("abstain", (), confidence)
    certainty = answer_certainty([score(h) for h in hits[:2]], confidence, policy.answer_model,
                                 getattr(hits[0], "lead", None), policy.answer_leads)
    if certainty >= policy.answer_at or len(hits) == 1:
        return Decision("answer", (hits[0],), confidence)
    top = score(hits[0])
    choices = [h for h in hits[: policy.max_choices] if score(h) >= policy.choice_floor * top]
    if len(choices) < policy.min_choices:
        choices = list(hits[: policy.min_choices])
    return Decision("offer", tuple(choices), confidence)
