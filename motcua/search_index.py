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

from knowledge_base.schema import Synonym
from knowledge_base.store import LegalDocumentRow, LegalUnitRow, list_faq, list_procedures, list_synonyms
from motcua.db import session_scope
from motcua.settings import Settings
from retrieval.documents import SearchDocument, legal_passage, passage_context
from retrieval.service import RetrievalService, documents_from

log = logging.getLogger(__name__)
Echo = Callable[[str], None]


def legal_passages(session) -> list[SearchDocument]:
    """Clauses (with their points) and articles without clauses, with their context.

    Each passage is titled by its article and carries the document's name and its chapter
    and section headings as context, and the days its document is in force
    (:func:`retrieval.documents.legal_passage`), exactly as ``retrieval/dev/legal_tune.py``
    measures them.
    """
    documents = {row.id: row for row in session.scalars(select(LegalDocumentRow))}
    units = session.scalars(select(LegalUnitRow).order_by(LegalUnitRow.document_id, LegalUnitRow.position)).all()
    titles = {(u.document_id, u.article): u.title for u in units if u.kind == "article"}
    chapters = {(u.document_id, u.chapter): u.title for u in units if u.kind == "chapter"}
    sections = {(u.document_id, u.chapter, u.section): u.title for u in units if u.kind == "section"}
    with_clauses = {(u.document_id, u.article) for u in units if u.kind == "clause"}
    passages = []
    for unit in units:
        if unit.kind not in {"article", "clause"}:
            continue
        if unit.kind == "article" and (unit.document_id, unit.article) in with_clauses:
            continue
        row = documents[unit.document_id]
        meta = row.meta or {}
        ends = min([d for d in (row.replaced_from, str(meta.get("expired_on") or "")) if d], default="")
        context = passage_context(
            row.title, unit.chapter or None, chapters.get((unit.document_id, unit.chapter), ""),
            unit.section or None, sections.get((unit.document_id, unit.chapter, unit.section), ""))
        passages.append(legal_passage(
            document=row.number, article=unit.article, article_title=titles.get((unit.document_id, unit.article), ""),
            text=unit.text, citation=unit.citation, key=f"{row.number}#{unit.key}", clause=unit.clause,
            unit=unit.kind, context=context, label=str(meta.get("label") or row.number),
            effective=row.effective or "", ends=ends))
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


IndexProgress = Callable[[str, int, int], None]
"""``progress(description, done, total)``: how far building or updating the index has come."""


def sync_index(
    service: RetrievalService,
    documents: list[SearchDocument],
    synonyms: list[Synonym],
    progress: IndexProgress | None = None,
) -> tuple[int, int]:
    """Bring a loaded index in step with ``documents`` and ``synonyms``: (changed, removed).

    Only a document whose content changed is re-embedded; the index is saved when anything
    changed. Used at start-up (:func:`open_index`) and by the action server after a staff edit.
    """
    wanted = {d.id for d in documents}
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress and (done % 256 < count or done == len(documents)):
            progress("Cập nhật chỉ mục tìm kiếm", done, len(documents))

    changed = service.upsert_many(documents, progress=advance)
    stale = [d.id for d in service.index.documents() if d.id not in wanted]
    removed = sum(service.remove(i) for i in stale)
    synonyms_changed = service.set_synonyms(synonyms)
    if changed or removed or synonyms_changed:
        service.save()
    return changed, removed


def open_index(
    settings: Settings,
    *,
    rebuild: bool = False,
    echo: Echo = lambda _: None,
    progress: IndexProgress | None = None,
    cache_dir: Path | None = None,
) -> tuple[RetrievalService, IndexReport]:
    """The index for ``settings``, loaded and synced with the database, or built (with ``progress``).

    ``cache_dir``: where embeddings are cached (default ``<data_dir>/search/embedding-cache``);
    tests and benchmarks share one so that a text is embedded once per machine.
    """
    started = time.perf_counter()
    documents, synonyms = knowledge_documents(settings.sqlalchemy_url)
    service = RetrievalService(
        embedder=settings.embedding_model, synonyms=synonyms, autosave=False, cache_dir=cache_dir
    )
    directory = settings.index_dir
    if not rebuild:
        try:
            service.load(directory)
        except (FileNotFoundError, ValueError, OSError) as exc:
            log.info("no usable search index in %s (%s): building", directory, exc)
        else:
            changed, removed = sync_index(service, documents, synonyms, progress)
            return service, IndexReport(len(documents), changed, removed, False, time.perf_counter() - started)
    echo(f"… Đang xây chỉ mục tìm kiếm cho {len(documents)} tài liệu (lần đầu có thể mất vài phút)")
    built = 0

    def advance(count: int) -> None:
        nonlocal built
        built += count
        if progress:
            progress("Xây chỉ mục tìm kiếm", built, len(documents))

    service.build(documents, directory, progress=advance)
    return service, IndexReport(len(documents), len(documents), 0, True, time.perf_counter() - started)
