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

from collections.abc import Sequence
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

    def __post_init__(self) -> None:
        if not 0.0 <= self.offer_at <= self.answer_at <= 1.0:
            raise ValueError("need 0 ≤ offer_at ≤ answer_at ≤ 1")
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


def decide(hits: Sequence[Hit], confidence: float, policy: DecisionPolicy,
           score=lambda hit: getattr(hit, "score", 0.0)) -> Decision[Hit]:
    """The move for ``hits`` (best first) searched with ``confidence``."""
    if not hits or confidence < policy.offer_at:
        return Decision("abstain", (), confidence)
    if confidence >= policy.answer_at or len(hits) == 1:
        return Decision("answer", (hits[0],), confidence)
    top = score(hits[0])
    choices = [h for h in hits[: policy.max_choices] if score(h) >= policy.choice_floor * top]
    if len(choices) < policy.min_choices:
        choices = list(hits[: policy.min_choices])
    return Decision("offer", tuple(choices), confidence)
