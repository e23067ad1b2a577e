"""The knowledge base in the database: procedures, their revisions, synonyms, FAQ.

A procedure is kept whole as its :class:`~knowledge_base.schema.Procedure`
mapping (JSON) plus the columns people search and sort by. Every change made
through :func:`save_procedure` writes a revision (who, when, before, after), so
any change can be reverted. Synonyms, FAQ entries and legal documents' metadata that
staff change through :mod:`knowledge_base.curation` keep their history in
:class:`KbRevision`; a synonym or FAQ entry staff deleted is only marked ``deleted``,
so that loading the defaults again neither brings it back nor overwrites a staff edit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from knowledge_base.schema import FaqEntry, Procedure, Synonym
from motcua.db import Base, utcnow


class ProcedureRow(Base):
    __tablename__ = "procedures"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(String(255), default="", index=True)
    levels: Mapped[str] = mapped_column(String(255), default="")
    source: Mapped[str] = mapped_column(String(32), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    staff_edited: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Where ``data`` came from (see knowledge_base.precedence): the default file as last loaded,
    # the national catalogue's record as last imported; None when that source has no record.
    center_data: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), default=None)
    catalogue_data: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), default=None)

    def to_procedure(self) -> Procedure:
        return Procedure.from_dict(self.data)

    def automatic(self) -> dict[str, Any] | None:
        """What the procedure reads without staff edits: the centre's text, the catalogue filling
        its gaps; ``None`` for a procedure only staff wrote."""
        from knowledge_base.precedence import compose, from_column

        center, catalogue = from_column(self.center_data), from_column(self.catalogue_data)
        if center is None and catalogue is None:
            return None
        return compose(center, catalogue).to_dict()


class ProcedureRevision(Base):
    __tablename__ = "procedure_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_code: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SynonymRow(Base):
    __tablename__ = "synonyms"

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase: Mapped[str] = mapped_column(String(255), unique=True)
    canonical: Mapped[str] = mapped_column(String(255))
    staff_edited: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class FaqRow(Base):
    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    procedure_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    staff_edited: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class KbRevision(Base):
    """One change to a synonym, an FAQ entry or a legal document's metadata: who, when, before, after.

    ``entity`` is ``"synonym"``, ``"faq"`` or ``"legal"``; ``entity_id`` the row's id. ``before``
    is ``None`` for a creation and ``after`` is ``None`` for a deletion.
    """

    __tablename__ = "kb_revisions"
    __table_args__ = (Index("ix_kb_revisions_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class LegalDocumentRow(Base):
    __tablename__ = "legal_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    doc_type: Mapped[str] = mapped_column(String(64), default="")
    title: Mapped[str] = mapped_column(Text, default="")
    issuer: Mapped[str] = mapped_column(String(255), default="")
    issued: Mapped[str] = mapped_column(String(10), default="")  # ISO date or ""
    effective: Mapped[str] = mapped_column(String(10), default="")
    replaced_by: Mapped[str] = mapped_column(String(64), default="")
    replaced_from: Mapped[str] = mapped_column(String(10), default="")
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_file: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LegalUnitRow(Base):
    """A chapter, article, clause or point of a legal document, addressable by ``key``."""

    __tablename__ = "legal_units"
    __table_args__ = (UniqueConstraint("document_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("legal_documents.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(128))  # e.g. "d15.k1.a"
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(16), default="")
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    citation: Mapped[str] = mapped_column(Text, default="")
    chapter: Mapped[str] = mapped_column(String(16), default="")
    section: Mapped[str] = mapped_column(String(16), default="")
    article: Mapped[str] = mapped_column(String(16), default="", index=True)
    clause: Mapped[str] = mapped_column(String(16), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class SaveResult:
    code: str
    created: bool
    changed: bool


def get_procedure(session: Session, code: str) -> Procedure | None:
    row = session.scalar(select(ProcedureRow).where(ProcedureRow.code == code))
    return row.to_procedure() if row else None


def list_procedures(session: Session) -> list[Procedure]:
    return [row.to_procedure() for row in session.scalars(select(ProcedureRow).order_by(ProcedureRow.code))]


def list_procedures_and_catalogue(session: Session) -> tuple[list[Procedure], dict[str, Procedure]]:
    """Every procedure, and the national catalogue's own record of those imported from it (by code),
    read in one pass. A record that says what the procedure says is that same object: most catalogue-only
    procedures, so the catalogue costs neither a second parse nor a second copy in memory."""
    procedures: list[Procedure] = []
    catalogue: dict[str, Procedure] = {}
    for row in session.scalars(select(ProcedureRow).order_by(ProcedureRow.code)):
        procedure = row.to_procedure()
        procedures.append(procedure)
        if not row.catalogue_data:
            continue
        record = procedure if row.catalogue_data == row.data else Procedure.from_dict(row.catalogue_data)
        catalogue[row.code] = procedure if record == procedure else record
    return procedures, catalogue


def count_procedures(session: Session) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count()).select_from(ProcedureRow)) or 0


def save_procedure(
    session: Session,
    procedure: Procedure,
    *,
    actor: str,
    reason: str = "",
    staff_edit: bool = False,
    overwrite_staff_edits: bool = True,
) -> SaveResult:
    """Insert or update by code, writing a revision when anything changed.

    An import (``staff_edit=False``) leaves a procedure that staff edited alone
    unless ``overwrite_staff_edits`` is true. A staff save (an edit or a revert) marks the
    procedure staff-edited only while it differs from what the centre's files and the
    catalogue say (:meth:`ProcedureRow.automatic`): reverting to that content unmarks it.
    """
    data = procedure.to_dict()
    row = session.scalar(select(ProcedureRow).where(ProcedureRow.code == procedure.code))
    if row is None:
        row = ProcedureRow(
            code=procedure.code, name=procedure.name, field=procedure.field,
            levels=", ".join(procedure.levels), source=procedure.source, data=data,
            staff_edited=staff_edit, version=1,
        )
        session.add(row)
        session.add(ProcedureRevision(procedure_code=procedure.code, version=1, actor=actor,
                                      reason=reason or "tạo mới", before=None, after=data))
        return SaveResult(procedure.code, created=True, changed=True)
    if row.staff_edited and not staff_edit and not overwrite_staff_edits:
        return SaveResult(procedure.code, created=False, changed=False)
    if row.data == data:
        return SaveResult(procedure.code, created=False, changed=False)
    before = row.data
    row.data = data
    row.name, row.field, row.levels, row.source = (
        procedure.name, procedure.field, ", ".join(procedure.levels), procedure.source,
    )
    if staff_edit:
        automatic = row.automatic()
        row.staff_edited = automatic is None or automatic != data
    else:  # an import told to overwrite: the staff's content is gone
        row.staff_edited = False
    row.version += 1
    session.add(ProcedureRevision(procedure_code=procedure.code, version=row.version, actor=actor,
                                  reason=reason, before=before, after=data))
    return SaveResult(procedure.code, created=False, changed=True)


def replace_synonyms(session: Session, synonyms: Iterable[Synonym]) -> int:
    """Add new phrases and update changed ones; a phrase staff edited or deleted is left alone."""
    count = 0
    for synonym in synonyms:
        row = session.scalar(select(SynonymRow).where(SynonymRow.phrase == synonym.phrase))
        if row is None:
            session.add(SynonymRow(phrase=synonym.phrase, canonical=synonym.canonical))
            count += 1
        elif row.staff_edited:
            continue
        elif row.canonical != synonym.canonical:
            row.canonical = synonym.canonical
            count += 1
    return count


def list_synonyms(session: Session) -> list[Synonym]:
    query = select(SynonymRow).where(SynonymRow.deleted.is_(False)).order_by(SynonymRow.phrase)
    return [Synonym(r.phrase, r.canonical) for r in session.scalars(query)]


def add_faq(session: Session, entries: Iterable[FaqEntry]) -> int:
    """Add entries whose question is not there yet (an entry staff deleted counts as there)."""
    existing = {row.question for row in session.scalars(select(FaqRow))}
    added = 0
    for entry in entries:
        if entry.question in existing:
            continue
        session.add(FaqRow(question=entry.question, answer=entry.answer, procedure_codes=list(entry.procedures)))
        added += 1
    return added


def list_faq(session: Session) -> list[FaqEntry]:
    return [FaqEntry(r.question, r.answer, tuple(r.procedure_codes or ()))
            for r in session.scalars(select(FaqRow).where(FaqRow.deleted.is_(False)).order_by(FaqRow.id))]


__all__ = [
    "FaqRow", "KbRevision", "LegalDocumentRow", "LegalUnitRow", "ProcedureRevision", "ProcedureRow", "SaveResult",
    "SynonymRow", "add_faq", "count_procedures", "get_procedure", "list_procedures_and_catalogue", "list_faq",
    "list_procedures",
    "list_synonyms", "replace_synonyms", "save_procedure", "Text",
]
