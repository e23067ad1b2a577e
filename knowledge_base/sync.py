"""Loads the default knowledge base (the YAML files in this folder) into the database.

Idempotent: a procedure is updated by code only when what citizens are told changed, and a
procedure that staff edited is left alone unless ``overwrite_staff_edits``.

The default files are the centre's own words and win over the national catalogue, field by
field (:mod:`knowledge_base.precedence`): where a procedure was imported too, the catalogue only
fills what the default file leaves empty, and its own record stays beside it
(``catalogue_data``). Loading the defaults after an import therefore gives the same answers as
before the import; the everyday names (``everyday_names/``) follow the file's own aliases.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy import select

from knowledge_base.precedence import CATALOGUE_SOURCE, compose, from_column, merged_aliases
from knowledge_base.schema import Procedure
from knowledge_base.store import ProcedureRow, add_faq, replace_synonyms, save_procedure
from motcua.db import session_scope

__all__ = ["CATALOGUE_SOURCE", "SyncReport", "center_text", "merged_aliases", "sync_defaults",
           "with_catalogue_content"]


def center_text(default: Procedure) -> Procedure:
    """The default file's procedure as stored: its aliases, then the everyday names citizens use."""
    from knowledge_base.everyday_names import everyday_names

    return dataclasses.replace(
        default, aliases=merged_aliases(default.aliases, everyday_names().get(default.code, [])))


def with_catalogue_content(default: Procedure, row: ProcedureRow | None) -> Procedure:
    """What the default file leaves in the database for ``default.code``: its own text, field by
    field, the catalogue's record (when imported) filling only what the file leaves empty."""
    catalogue = from_column(row.catalogue_data) if row is not None else None
    return compose(center_text(default), catalogue)


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
            row = rows.get(default.code)
            procedure = with_catalogue_content(default, row)
            result = save_procedure(session, procedure, actor="system:defaults", reason="dữ liệu mặc định",
                                    overwrite_staff_edits=overwrite_staff_edits)
            stored = row or session.scalar(select(ProcedureRow).where(ProcedureRow.code == default.code))
            if stored is not None:  # kept even under a staff edit: a revert is compared with it
                stored.center_data = center_text(default).to_dict()
            created += result.created
            updated += result.changed and not result.created
            unchanged += not result.changed
        synonym_count = replace_synonyms(session, synonyms)
        faq_count = add_faq(session, faq)
    return SyncReport(created, updated, unchanged, synonym_count, faq_count)
