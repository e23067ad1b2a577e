"""Loads the default knowledge base (the YAML files in this folder) into the database.

Idempotent: a procedure is updated by code only when its file changed, and a
procedure that staff edited is left alone unless ``overwrite_staff_edits``.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge_base.store import add_faq, replace_synonyms, save_procedure
from motcua.db import session_scope


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
        for procedure in procedures:
            result = save_procedure(session, procedure, actor="system:defaults", reason="dữ liệu mặc định",
                                    overwrite_staff_edits=overwrite_staff_edits)
            created += result.created
            updated += result.changed and not result.created
            unchanged += not result.changed
        synonym_count = replace_synonyms(session, synonyms)
        faq_count = add_faq(session, faq)
    return SyncReport(created, updated, unchanged, synonym_count, faq_count)
