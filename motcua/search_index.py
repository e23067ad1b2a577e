"""The deployment's search index, kept in step with the knowledge base in the database.

Procedures, FAQ entries and legal passages (clauses, and articles without clauses)
are read from the database and indexed by :class:`retrieval.service.RetrievalService`
under ``<data_dir>/search``. :func:`open_index` loads the saved index and applies
only what changed since (an edit re-embeds one document; embeddings are cached by
content hash), or builds it when there is none.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from knowledge_base.store import LegalDocumentRow, LegalUnitRow, list_faq, list_procedures, list_synonyms
from motcua.db import session_scope
from motcua.settings import Settings
from retrieval.documents import SearchDocument, passage_to_document
from retrieval.service import RetrievalService, documents_from

log = logging.getLogger(__name__)
Echo = Callable[[str], None]


def index_directory(settings: Settings) -> Path:
    return settings.data_dir / "search"


def legal_passages(session) -> list[SearchDocument]:
    """Clauses (with their points) and articles that have no clauses, titled by their article."""
    documents = {row.id: row for row in session.scalars(select(LegalDocumentRow))}
    units = session.scalars(select(LegalUnitRow).order_by(LegalUnitRow.document_id, LegalUnitRow.position)).all()
    titles = {(u.document_id, u.article): u.title for u in units if u.kind == "article"}
    with_clauses = {(u.document_id, u.article) for u in units if u.kind == "clause"}
    passages = []
    for unit in units:
        if unit.kind not in {"article", "clause"}:
            continue
        if unit.kind == "article" and (unit.document_id, unit.article) in with_clauses:
            continue
        number = documents[unit.document_id].number
        article = f"Điều {unit.article}"
        title = titles.get((unit.document_id, unit.article), "")
        passages.append(passage_to_document(
            document=number, article=article, clause=unit.clause, text=unit.text, citation=unit.citation,
            title=f"{article}. {title}" if title else article, id=f"passage:{number}#{unit.key}"))
    return passages


def knowledge_documents(database_url: str) -> tuple[list[SearchDocument], list]:
    with session_scope(database_url) as session:
        documents = documents_from(list_procedures(session), list_faq(session), legal_passages(session))
        synonyms = list_synonyms(session)
    return documents, synonyms


@dataclass(frozen=True)
class IndexReport:
    documents: int
    changed: int
    removed: int
    built: bool
    seconds: float

    def describe(self) -> str:
        action = "xây mới" if self.built else f"cập nhật {self.changed}, bỏ {self.removed}"
        return f"Chỉ mục tìm kiếm: {self.documents} tài liệu ({action}) trong {self.seconds:.1f} giây"


def open_index(settings: Settings, *, rebuild: bool = False, echo: Echo = lambda _: None) -> tuple[RetrievalService, IndexReport]:
    """The index for ``settings``, loaded and synced with the database, or built."""
    started = time.perf_counter()
    documents, synonyms = knowledge_documents(settings.sqlalchemy_url)
    service = RetrievalService(embedder=settings.embedding_model, synonyms=synonyms, autosave=False)
    directory = index_directory(settings)
    if not rebuild:
        try:
            service.load(directory)
        except (FileNotFoundError, ValueError, OSError) as exc:
            log.info("no usable search index in %s (%s): building", directory, exc)
        else:
            wanted = {d.id for d in documents}
            changed = sum(service.upsert(d) for d in documents)
            stale = [d.id for d in service.index.documents() if d.id not in wanted]
            removed = sum(service.remove(i) for i in stale)
            if changed or removed:
                service.save()
            return service, IndexReport(len(documents), changed, removed, False, time.perf_counter() - started)
    echo(f"… Đang xây chỉ mục tìm kiếm cho {len(documents)} tài liệu (lần đầu có thể mất vài phút)")
    service.build(documents, directory)
    return service, IndexReport(len(documents), len(documents), 0, True, time.perf_counter() - started)
