"""Loads the default knowledge base (the YAML files in this folder) into the database.

Idempotent: a procedure is updated by code only when its file changed, and a
procedure that staff edited is left alone unless ``overwrite_staff_edits``.

The national catalogue is the richer, authoritative record: where a procedure was
imported from it, the default file does not replace it but only adds the
everyday names citizens use (its ``aliases``), so an import followed by a restart
keeps the catalogue's full text and gains the defaults' wording.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy import select

from knowledge_base.schema import Procedure
from knowledge_base.store import ProcedureRow, add_faq, replace_synonyms, save_procedure
from motcua.db import session_scope

CATALOGUE_SOURCE = "dichvucong"


def merged_aliases(*alias_lists: list[str]) -> list[str]:
    """The union of alias lists, first spelling kept, order kept, case-insensitive."""
    seen: set[str] = set()
    merged: list[str] = []
    for aliases in alias_lists:
        for alias in aliases:
            key = " ".join(alias.casefold().split())
            if key and key not in seen:
                seen.add(key)
                merged.append(alias)
    return merged


def with_catalogue_content(default: Procedure, row: ProcedureRow | None) -> Procedure:
    """What the default file should leave in the database for ``default.code``.

    A row imported from the catalogue keeps its content; it only gains the default aliases,
    put first: the centre's files win over ``everyday_names/``, which the import put there.
    Without a catalogue row, the default file gains the everyday names after its own.
    """
    from knowledge_base.everyday_names import everyday_names

    if row is None or row.source != CATALOGUE_SOURCE:
        return dataclasses.replace(
            default, aliases=merged_aliases(default.aliases, everyday_names().get(default.code, [])))
    current = row.to_procedure()
    current.aliases = merged_aliases(default.aliases, current.aliases)
    return current


@dataclass(frozen=True)
class SyncReport:
    created: int
    updated: int
    unchanged: int
    synonyms: int
    faq: int

    def describe(self) -> str:
        return (f"{self.created} thủ tục mới, {self.updated} cập nhật, {self.unchanged} không đổi; "
                f"{self.synonyms} từ đồng nghĩa, {self.faq} câu hỏi thường gặp được thêm")


def sync_defaults(database_url: str, *, overwrite_staff_edits: bool = False) -> SyncReport:
    from knowledge_base.defaults import load_default_procedures, load_faq, load_synonyms

    procedures = load_default_procedures()
    synonyms, faq = load_synonyms(), load_faq()
    created = updated = unchanged = 0
    with session_scope(database_url) as session:
        rows = {row.code: row for row in session.scalars(select(ProcedureRow))}
        for default in procedures:
            procedure = with_catalogue_content(default, rows.get(default.code))
            result = save_procedure(session, procedure, actor="system:defaults", reason="dữ liệu mặc định",
                                    overwrite_staff_edits=overwrite_staff_edits)
            created += result.created
            updated += result.changed and not result.created
            unchanged += not result.changed
        synonym_count = replace_synonyms(session, synonyms)
        faq_count = add_faq(session, faq)
    return SyncReport(created, updated, unchanged, synonym_count, faq_count)
