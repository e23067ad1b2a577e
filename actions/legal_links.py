"""Procedure ↔ law: a procedure's legal basis as articles of the library, and back.

Plain functions, no Rasa. A procedure's legal basis (from the catalogue: number and
title) is matched to the library's documents by number, spelled loosely
(``123/2015/NĐ-CP`` = ``123/2015/ND-CP``). For each linked document the articles shown
are the ones that best match the procedure's name within that document (a search
restricted to it), or all of them when the document is short. The other way, the
procedures that act on a document are those whose legal basis cites it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from knowledge_base.legal_library import DocumentInfo, article_path
from knowledge_base.messages import render
from knowledge_base.schema import Procedure

ARTICLES_PER_DOCUMENT = 3
FEW_ARTICLES = 3  # a document with at most this many articles is shown whole
MAX_DOCUMENTS = 6
COMMUNE_LEVEL_WORDS = frozenset({"Cấp xã"})
"""The level of a procedure the commune's centre handles (``Procedure.levels``)."""
ARTICLE_PREFIX_RE = re.compile(r"^\s*Điều\s*")


def number_key(number: str) -> str:
    """A document number spelled one way: ``"123/2015/NĐ-CP"`` and ``"123/2015/nd-cp "`` → ``"123/2015/ND-CP"``."""
    return re.sub("Đ", "D", re.sub(r"\s+", "", number).upper())


def article_number(article: str) -> str:
    """``"Điều 15"`` → ``"15"``."""
    return ARTICLE_PREFIX_RE.sub("", article).strip()


@dataclass(frozen=True)
class ArticleLink:
    article: str  # "15"
    title: str
    url: str

    @property
    def heading(self) -> str:
        if self.title:
            return render("action.legal_links.article", article=self.article, title=self.title)
        return render("action.legal_links.article_untitled", article=self.article)


@dataclass(frozen=True)
class DocumentLink:
    number: str
    title: str  # as the catalogue names it
    label: str = ""  # the library's short name, "Luật Hộ tịch 2014"; "" when not in the library
    articles: tuple[ArticleLink, ...] = field(default=())

    @property
    def in_library(self) -> bool:
        return bool(self.label)


Ranker = Callable[[str, Sequence[str]], Sequence[object]]
"""``(query, within document numbers) → PassageHit``-like hits (``document``, ``article``, ``article_title``)."""


def link_legal_basis(
    procedure: Procedure,
    library: Mapping[str, DocumentInfo],
    rank: Ranker | None,
    article_count: Mapping[str, int] | None = None,
    base_url: str = "",
) -> list[DocumentLink]:
    """The procedure's legal basis, each document linked to its most relevant articles.

    ``library`` maps :func:`number_key` → stored document; ``rank`` searches articles
    within given documents; ``article_count`` (by number) lets a short document be shown
    whole without searching.
    """
    out = []
    # documents the library holds first (they are the ones with articles to read), catalogue order kept
    references = sorted(procedure.legal_basis, key=lambda r: number_key(r.number) not in library)
    for reference in references[:MAX_DOCUMENTS]:
        info = library.get(number_key(reference.number))
        if info is None:
            out.append(DocumentLink(reference.number, reference.title))
            continue
        articles: list[ArticleLink] = []
        if rank is not None:
            depth = ARTICLES_PER_DOCUMENT
            if article_count and article_count.get(info.number, FEW_ARTICLES + 1) <= FEW_ARTICLES:
                depth = FEW_ARTICLES
            seen = set()
            for hit in rank(procedure.name, [info.number])[:depth]:
                number = article_number(str(getattr(hit, "article", "")))
                if number and number not in seen:
                    seen.add(number)
                    articles.append(
                        ArticleLink(
                            number,
                            str(getattr(hit, "article_title", "")),
                            base_url + article_path(info.number, number),
                        )
                    )
        out.append(DocumentLink(info.number, reference.title, info.label, tuple(articles)))
    return out


def procedures_acting_on(
    numbers: Iterable[str], procedures: Iterable[Procedure], ranked_codes: Sequence[str] = (), limit: int = 2
) -> list[Procedure]:
    """Procedures whose legal basis cites one of ``numbers``, those in ``ranked_codes`` first, in that order.

    ``ranked_codes`` is the search's ranking of procedures for the question; procedures not
    in it follow, commune-level first, by name.
    """
    wanted = {number_key(n) for n in numbers}
    acting = [p for p in procedures if any(number_key(r.number) in wanted for r in p.legal_basis)]
    position = {code: i for i, code in enumerate(ranked_codes)}
    acting.sort(key=lambda p: (position.get(p.code, len(position)), not COMMUNE_LEVEL_WORDS & set(p.levels), p.name))
    ranked = [p for p in acting if p.code in position]
    return (ranked or acting)[:limit]


def procedure_button(procedure: Procedure) -> dict[str, str]:
    name = procedure.name if len(procedure.name) <= 60 else procedure.name[:57].rsplit(" ", 1)[0] + "…"
    return {
        "title": render("action.legal_links.procedure_button", name=name),
        "payload": f'/ask_procedure{{"procedure_code": "{_json_safe(procedure.code)}"}}',
    }


def _json_safe(text: str) -> str:
    return text.replace("\\", " ").replace('"', "'")
