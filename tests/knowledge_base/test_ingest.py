"""Legal documents stored in the database, article by article, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from knowledge_base.ingest import ingest_legal_files
from knowledge_base.store import LegalDocumentRow, LegalUnitRow
from motcua.db import session_scope

SAMPLE = """---
number: 99/2025/NĐ-CP
title: Nghị định thử nghiệm
type: Nghị định
issuer: Chính phủ
issued: 2025-01-02
effective: 2025-03-01
---

Chương I
QUY ĐỊNH CHUNG

Điều 1. Phạm vi điều chỉnh
Nghị định này quy định về việc thử nghiệm.

Điều 2. Trách nhiệm
1. Ủy ban nhân dân cấp xã tiếp nhận hồ sơ.
2. Công dân có trách nhiệm:
a) Khai đúng sự thật;
b) Nộp lệ phí.
"""


def _counts(url: str) -> tuple[int, int]:
    with session_scope(url) as session:
        return (session.scalar(select(func.count()).select_from(LegalDocumentRow)),
                session.scalar(select(func.count()).select_from(LegalUnitRow)))


def test_a_document_is_stored_with_addressable_clauses_and_reingest_replaces_it(database_url, tmp_path):
    path = tmp_path / "99-2025-ND-CP.md"
    path.write_text(SAMPLE, encoding="utf-8")
    [outcome] = ingest_legal_files(database_url, [path])
    assert outcome.ok and outcome.number == "99/2025/NĐ-CP" and outcome.articles == 2
    first = _counts(database_url)
    ingest_legal_files(database_url, [path])
    assert _counts(database_url) == first
    with session_scope(database_url) as session:
        point = session.scalar(select(LegalUnitRow).where(LegalUnitRow.key == "d2.k2.b"))
        assert point.text == "Nộp lệ phí."
        assert point.citation == "Điểm b khoản 2 Điều 2 Nghị định 99/2025/NĐ-CP"


@pytest.mark.parametrize("content", [b"", b"\x00\x01binary junk", b"chi co mot dong khong co dieu nao"])
def test_a_bad_file_is_reported_and_leaves_the_knowledge_base_unchanged(database_url, tmp_path, content):
    good = tmp_path / "99-2025-ND-CP.md"
    good.write_text(SAMPLE, encoding="utf-8")
    ingest_legal_files(database_url, [good])
    before = _counts(database_url)
    bad = tmp_path / "bad.md"
    bad.write_bytes(content)
    [outcome] = ingest_legal_files(database_url, [bad])
    assert not outcome.ok and outcome.error
    assert _counts(database_url) == before


@pytest.mark.shared_data
@pytest.mark.slow
def test_the_whole_shared_legal_library_is_addressable_by_citation(shared_data, tmp_path):
    from motcua.db import upgrade_database

    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    upgrade_database(url)
    outcomes = ingest_legal_files(url, sorted((shared_data / "legal").glob("*-*.md")))
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    assert len(outcomes) == 11
    with session_scope(url) as session:
        articles = session.scalar(select(func.count()).select_from(LegalUnitRow).where(LegalUnitRow.kind == "article"))
        citations = set(session.scalars(select(LegalUnitRow.citation).where(LegalUnitRow.kind == "article")))
    assert articles == 754  # every article of the 11 files (see legal parser tests for the per-file counts)
    assert len(citations) == articles
    assert "Khoản 1 Điều 15 Luật Hộ tịch 2014" in _all_citations(url)


def _all_citations(url: str) -> set[str]:
    with session_scope(url) as session:
        return set(session.scalars(select(LegalUnitRow.citation)))
