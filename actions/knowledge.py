"""What the actions know: procedures from the knowledge base, and how to find one.

:class:`KnowledgeBase` loads procedures from the database in :meth:`warm_up`
and finds the procedure a citizen means through a :class:`ProcedureFinder`:
the hybrid retrieval index when it is built, else :class:`AliasFinder`, which
matches the names and aliases staff keep (accent-insensitive).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from knowledge_base.schema import Procedure
from knowledge_base.store import list_procedures_and_catalogue
from knowledge_base.text import fold
from motcua.db import Database, shared_database

if TYPE_CHECKING:
    from retrieval.service import RetrievalService

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Match:
    code: str
    name: str
    score: float


@dataclass(frozen=True)
class FinderResult:
    matches: list[Match]
    abstained: bool


class ProcedureFinder(Protocol):
    def find(self, text: str, top_k: int = 3) -> FinderResult: ...


_GENERIC = re.compile(r"^(thu tuc|dang ky|cap|giai quyet|xac nhan)\s+")


class AliasFinder:
    """Finds procedures whose name or alias appears in the text (longest match wins)."""

    def __init__(self, procedures: list[Procedure]):
        self._phrases: list[tuple[str, Procedure]] = []
        for procedure in procedures:
            names = {procedure.name, _GENERIC.sub("", fold(procedure.name)), *procedure.aliases}
            for name in names:
                folded = fold(name)
                if len(folded) >= 4:
                    self._phrases.append((folded, procedure))
        self._phrases.sort(key=lambda item: -len(item[0]))

    def find(self, text: str, top_k: int = 3) -> FinderResult:
        query = f" {fold(text)} "
        seen: dict[str, Match] = {}
        for phrase, procedure in self._phrases:
            if f" {phrase} " in query and procedure.code not in seen:
                seen[procedure.code] = Match(procedure.code, procedure.name, round(len(phrase) / len(query), 3))
                if len(seen) >= top_k:
                    break
        matches = sorted(seen.values(), key=lambda m: -m.score)
        return FinderResult(matches, abstained=not matches)


class RetrievalFinder:
    """The hybrid search index (BM25 on accented and unaccented text + embeddings)."""

    def __init__(self, service):
        self.service = service

    def find(self, text: str, top_k: int = 3) -> FinderResult:
        response = self.service.search(text, top_k=top_k, kinds=("procedure", "faq"))
        matches = [Match(hit.code, hit.name, float(hit.score)) for hit in response.procedures[:top_k]]
        return FinderResult(matches, abstained=response.abstained or not matches)


class ChainFinder:
    """Staff-kept names first (exact, cheap), then the search index."""

    def __init__(self, *finders: ProcedureFinder):
        self.finders = finders

    def find(self, text: str, top_k: int = 3) -> FinderResult:
        result = FinderResult([], abstained=True)
        for finder in self.finders:
            result = finder.find(text, top_k)
            if not result.abstained:
                return result
        return result


@dataclass(frozen=True)
class RefreshReport:
    """What :meth:`KnowledgeBase.refresh` did: procedures now known, index documents re-embedded / dropped."""

    procedures: int
    changed: int
    removed: int
    indexed: bool  # False: no search index in this process (only names and aliases were reloaded)
    seconds: float

    def to_dict(self) -> dict[str, object]:
        return {"procedures": self.procedures, "changed": self.changed, "removed": self.removed,
                "indexed": self.indexed, "seconds": round(self.seconds, 3)}


class KnowledgeBase:
    _catalogue: Mapping[str, Procedure] = MappingProxyType({})  # the catalogue's records, once loaded

    def __init__(self, database_url: str, settings=None, *, database: Database | None = None):
        self.database_url = database_url
        self._database = database  # the action server's (actions/server.py); else the process's for the URL
        self.settings = settings
        self._procedures: dict[str, Procedure] = {}
        self.finder: ProcedureFinder = AliasFinder([])
        self.search: RetrievalService | None = None  # once warmed up with settings
        self._refresh_lock = threading.Lock()

    @property
    def database(self) -> Database:
        return self._database or shared_database(self.database_url)

    def warm_up(self) -> None:
        with self.database.session() as session:
            procedures, self._catalogue = list_procedures_and_catalogue(session)
        self._procedures = {p.code: p for p in procedures}
        finders: list[ProcedureFinder] = [AliasFinder(procedures)]
        if self.settings is not None:
            from motcua.search_index import open_index

            self.search, report = open_index(self.settings)
            log.info(report.describe())
            finders.append(RetrievalFinder(self.search))
        self.finder = ChainFinder(*finders)
        log.info("knowledge base: %d procedures loaded", len(procedures))

    def refresh(self) -> RefreshReport:
        """Catch up with staff edits without a rebuild: reload procedures, names and aliases, and
        re-sync the search index (only changed documents are re-embedded; synonyms follow)."""
        with self._refresh_lock:
            started = time.perf_counter()
            with self.database.session() as session:
                procedures, self._catalogue = list_procedures_and_catalogue(session)
            changed = removed = 0
            if self.search is not None and self.settings is not None:
                from motcua.search_index import knowledge_documents, sync_index

                documents, synonyms = knowledge_documents(self.settings.sqlalchemy_url)
                changed, removed = sync_index(self.search, documents, synonyms)
            finders: list[ProcedureFinder] = [AliasFinder(procedures)]
            if self.search is not None:
                finders.append(RetrievalFinder(self.search))
            self._procedures = {p.code: p for p in procedures}
            self.finder = ChainFinder(*finders)
            report = RefreshReport(len(procedures), changed, removed, self.search is not None,
                                   time.perf_counter() - started)
            log.info("knowledge base refreshed: %s", report)
            return report

    def get(self, code: str) -> Procedure | None:
        return self._procedures.get(code)

    def catalogue(self, code: str) -> Procedure | None:
        """The national catalogue's own record of ``code`` (shown as «Chi tiết theo Cổng Dịch vụ công»)."""
        return self._catalogue.get(code)

    def find(self, text: str, top_k: int = 3) -> FinderResult:
        return self.finder.find(text, top_k)

    def procedures_citing(self, number: str) -> list[Procedure]:
        """Procedures whose legal basis cites the document ``number`` (spelled loosely), for legal answers."""
        from actions.legal_links import number_key

        wanted = number_key(number)
        return [p for p in self._procedures.values() if any(number_key(r.number) == wanted for r in p.legal_basis)]

    def find_named(self, text: str, top_k: int = 3) -> FinderResult:
        """Only the names and aliases staff keep: precise, for telling a new topic from a follow-up."""
        first = self.finder.finders[0] if isinstance(self.finder, ChainFinder) else self.finder
        return first.find(text, top_k)

    def __len__(self) -> int:
        return len(self._procedures)
