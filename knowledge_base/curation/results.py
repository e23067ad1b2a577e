"""What curation gives back and what it raises: kinds of entity, errors, results, revisions.

Errors are :class:`CurationError` subclasses whose message is Vietnamese, fit to show staff.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class EntityKind(StrEnum):
    PROCEDURE = "procedure"
    SYNONYM = "synonym"
    FAQ = "faq"
    LEGAL = "legal"
    FEE = "fee"  # an amount of the center's fee table (knowledge_base/fees.yaml is the seed)

    @property
    def label(self) -> str:
        return {
            EntityKind.PROCEDURE: "thủ tục",
            EntityKind.SYNONYM: "từ đồng nghĩa",
            EntityKind.FAQ: "câu hỏi thường gặp",
            EntityKind.LEGAL: "văn bản pháp luật",
            EntityKind.FEE: "mức lệ phí",
        }[self]


class CurationError(ValueError):
    """A change staff asked for that cannot be made; the message says why, in Vietnamese."""


class NotFound(CurationError):
    pass


class Conflict(CurationError):
    """The change clashes with the current state (someone else's edit, a duplicate)."""


class Invalid(CurationError):
    pass


class UploadRefused(CurationError):
    """An uploaded legal document was not stored. ``kind``: empty, too_large, unsupported, scanned, unreadable."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Revision:
    id: int
    kind: EntityKind
    key: str  # procedure code, or the row id of a synonym / FAQ entry / legal document
    version: int
    actor: str
    reason: str
    created_at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def action(self) -> str:
        if self.before is None:  # created, or brought back after a deletion
            return "create" if self.version == 1 else "restore"
        return "delete" if self.after is None else "update"

    @property
    def changes(self) -> list[FieldChange]:
        """The fields that differ, in the order of the newer state."""
        before, after = self.before or {}, self.after or {}
        keys = list(after) + [k for k in before if k not in after]
        return [FieldChange(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": str(self.kind),
            "key": self.key,
            "version": self.version,
            "actor": self.actor,
            "reason": self.reason,
            "created_at": self.created_at.isoformat(),
            "action": self.action,
            "before": self.before,
            "after": self.after,
            "changes": [asdict(c) for c in self.changes],
        }


@dataclass(frozen=True)
class ChangeResult:
    kind: EntityKind
    key: str
    version: int
    changed: bool
    revision_id: int | None
    current: dict[str, Any] | None  # the state now; None once deleted

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "key": self.key,
            "version": self.version,
            "changed": self.changed,
            "revision_id": self.revision_id,
            "current": self.current,
        }


@dataclass(frozen=True)
class ProcedureSummary:
    code: str
    name: str
    field: str
    levels: str
    source: str
    staff_edited: bool
    version: int
    updated_at: str


@dataclass(frozen=True)
class ProcedureDetail:
    procedure: dict[str, Any]
    version: int
    staff_edited: bool
    source: str
    updated_at: str


@dataclass(frozen=True)
class SynonymItem:
    id: int
    phrase: str
    canonical: str
    staff_edited: bool


@dataclass(frozen=True)
class FaqItem:
    id: int
    question: str
    answer: str
    procedures: list[str]
    staff_edited: bool


@dataclass(frozen=True)
class LegalDocumentItem:
    id: int
    number: str
    doc_type: str
    title: str
    issuer: str
    issued: str
    effective: str
    replaced_by: str
    replaced_from: str
    status_note: str
    source_file: str
    articles: int
    units: int
    updated_at: str


@dataclass(frozen=True)
class UploadReport:
    document: LegalDocumentItem
    created: bool  # False: an earlier text of the same number was replaced
    articles: int
    units: int
    revision_id: int

    def describe(self) -> str:
        what = "Đã thêm" if self.created else "Đã thay thế nội dung"
        title = f" — {self.document.title}" if self.document.title else ""
        return (
            f"{what} văn bản {self.document.number}{title}: {self.articles} điều, "
            f"{self.units} đơn vị (chương, điều, khoản, điểm)."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "document": asdict(self.document),
            "created": self.created,
            "articles": self.articles,
            "units": self.units,
            "revision_id": self.revision_id,
            "message": self.describe(),
        }
