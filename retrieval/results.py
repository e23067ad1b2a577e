"""What a search returns: hits and a response that serialises to one fixed JSON shape."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ProcedureHit:
    code: str
    name: str
    score: float
    document_id: str = ""  # the procedure or FAQ document that produced the hit
    lead: Mapping[str, float] = field(default_factory=dict, compare=False)
    """On the first hit only: how far it is ahead of the second on single signals
    (:data:`retrieval.fusion.LEAD_SIGNALS`), read by the answer model (:mod:`retrieval.decision`)."""

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "score": round(float(self.score), 4)}


@dataclass(frozen=True)
class PassageHit:
    document: str  # number of the legal document, e.g. "123/2015/NĐ-CP"
    article: str  # "Điều 15"
    text: str
    score: float
    citation: str = ""  # "khoản 2 Điều 15 123/2015/NĐ-CP"
    document_id: str = ""
    key: str = ""  # the unit's machine key, "60/2014/QH13#d15.k1" (library passages)
    article_title: str = ""  # "Trách nhiệm đăng ký khai sinh"
    lead: Mapping[str, float] = field(default_factory=dict, compare=False)
    """On the first article only: how far its best clause is ahead of the second article's on single signals
    (:data:`retrieval.legal_ranking.LEGAL_LEAD_SIGNALS`), for an answer model that reads leads
    (``DecisionPolicy.answer_leads``; ``LEGAL_POLICY`` reads none)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "article": self.article,
            "text": self.text,
            "score": round(float(self.score), 4),
        }


@dataclass
class SearchResponse:
    """Hits best first. ``abstained`` is True when nothing was confident enough.

    ``confidence`` is the calibrated probability (0–1) that the best hit answers the query;
    each hit's ``score`` is its fused relevance scaled to 0–1.
    """

    query: str
    abstained: bool
    procedures: list[ProcedureHit] = field(default_factory=list)
    passages: list[PassageHit] = field(default_factory=list)
    confidence: float = 0.0
    features: dict[str, dict[str, float]] = field(default_factory=dict)  # per group, for tuning

    def to_json(self) -> dict[str, Any]:
        """Exactly ``{"query", "abstained", "procedures", "passages"}``."""
        return {
            "query": self.query,
            "abstained": bool(self.abstained),
            "procedures": [hit.to_json() for hit in self.procedures],
            "passages": [hit.to_json() for hit in self.passages],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False)
