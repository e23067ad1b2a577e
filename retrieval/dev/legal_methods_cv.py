"""Which ranking *methods* help legal questions, measured on the tuning half of ``tests/data`` only.

:mod:`retrieval.dev.legal_fusion_cv` searches the fusion weights; this script compares methods that
need no weight (or one, chosen by four folds **by article**): question-word rewriting
(:data:`retrieval.legal_ranking.LEGAL_QUESTION_CONCEPTS` on or off), a text named with its year or as
the new one not ranked lower for not being in force yet (:data:`~retrieval.legal_ranking.NAMED_EXPLICITLY`),
BM25 over whole articles (title + every clause) besides clauses, a document prior (the share of the
ten best articles in the article's document), a penalty on articles with many clauses
(``Giải thích từ ngữ`` has 145), a «procedure prior» (an article scores more when its document is the legal
basis of the question's best procedures), and, for reference, the fusion weights re-chosen on three folds.
Each question is read as the deployment reads it (as written and without diacritics), its raw
passage signals kept; a method is replayed with numpy (article = its best clause, as
``rank_articles`` with ``ARTICLE_SPREAD`` 0). Figures: hit@1, recall@3 (a gold article among the
three offered), hit@5, over answerable questions. Run::

    MOTCUA_DATA_DIR=/tmp/evaldeploy .venvs/app/bin/python -m retrieval.dev.legal_methods_cv \\
        /tmp/legal_tune.jsonl --out /tmp/legal_methods.json

Measured 2026-12-06 on a deployment as the README sets it up (catalogue + 11 shared texts; 188 rows
= 94 answerable tune questions × 2 spellings), hit@1 / recall@3 / hit@5: no question words 0.622 /
0.766 / 0.830; today's question words 0.633 / 0.787 / 0.830; + the named-text rule 0.644 / 0.798 /
0.840 (both kept). By four folds, not kept: article BM25 0.622 / 0.787, the document prior 0.644 /
0.798 (folds chose 0), the clause-count penalty 0.649 / 0.793, re-chosen fusion weights 0.622 /
0.814. (BM25 over a clause's chapeau + one point at a time, tried in a scratch run: 0.649 / 0.787
by folds against 0.670 / 0.819, not kept.) Added 2026-12-07, the «procedure prior» (articles of the laws
the question's three best procedures cite as legal basis, each a third): folds chose 0 four times, in sample
0.644 / 0.798 at 0 and 0.633 / 0.787 at 0.5 — not kept.
"""

from __future__ import annotations

import argparse
import itertools
import json
import zlib
from datetime import date
from pathlib import Path

import numpy as np

from retrieval import fusion, legal_ranking
from retrieval.dev import deployment_service
from retrieval.dev.decision_tune import read_lines
from retrieval.documents import SUMMARY_BREAK, SearchDocument
from retrieval.lexical import BM25_FULL, Bm25Field, terms_of
from retrieval.normalize import strip_diacritics

SIGNALS = tuple(legal_ranking.LEGAL_FUSION_WEIGHTS)
WEIGHT_GRID = {"full_accented": (1.0, 2.0, 3.0), "dense_summary": (1.0, 2.0, 3.0), "full_bare": (0.0, 0.5, 1.0),
               "query_coverage": (0.5, 1.0, 2.0), "title_coverage": (0.0, 0.5, 1.0)}
ONE_WEIGHT = (0.1, 0.25, 0.5, 1.0)  # values tried, by folds, for a method with one weight


def article_key(article: object) -> str:
    return str(article).removeprefix("Điều ").strip()


class ArticleBm25:
    """BM25 over whole articles (title + every clause), each article's score given to its clauses."""

    def __init__(self, group) -> None:
        texts: dict[int, list[str]] = {}
        titles: dict[int, str] = {}
        for position, document in enumerate(group.documents):
            article = int(group.article_ids[position])
            texts.setdefault(article, []).append(document.text.split(SUMMARY_BREAK, 1)[0])
            titles[article] = document.title
        self.articles = sorted(texts)
        self.field = Bm25Field(**BM25_FULL)
        for article in self.articles:
            terms = terms_of(SearchDocument(id=str(article), kind="passage", title=titles[article],
                                            text=" ".join(texts[article])))
            self.field.rows.append(self.field.encode(terms.full_accented))
        self.field.rebuild()
        where = {a: i for i, a in enumerate(self.articles)}
        self.of_passage = np.array([where[int(a)] for a in group.article_ids])

    def scores(self, query) -> np.ndarray:
        return fusion.scale_bm25(self.field.scores(query.accented_terms, len(self.articles)))[self.of_passage]


PRIOR_PROCEDURES = 3  # the procedures whose legal basis makes the «procedure prior»


def cited_documents(settings) -> dict[str, set[str]]:
    """Procedure code → the document numbers (``number_key``) its legal basis cites."""
    from actions.knowledge import KnowledgeBase
    from actions.legal_links import number_key

    knowledge = KnowledgeBase(settings.sqlalchemy_url)
    knowledge.warm_up()
    return {p.code: {number_key(r.number) for r in p.legal_basis}
            for p in (knowledge.get(code) for code in knowledge._procedures) if p is not None}


def procedure_prior(index, base, vector, cites: dict[str, set[str]], documents: np.ndarray) -> np.ndarray:
    """Per passage: the share of the question's best procedures whose legal basis cites its document."""
    from retrieval.hybrid import procedure_hits

    group = index.group("procedures")
    result = index.search_procedures(group, base, vector, {"procedure", "faq"})
    hits = procedure_hits(group, result, PRIOR_PROCEDURES, index.total_weight) if result is not None else []
    prior = np.zeros(len(documents), dtype=np.float32)
    for hit in hits:
        wanted = list(cites.get(hit.code, ()))
        prior += np.isin(documents, wanted).astype(np.float32) / PRIOR_PROCEDURES
    return prior


def collect(index, lines: list[dict], concepts: bool, cites: dict[str, set[str]] | None = None) -> list[dict]:
    """Per question and spelling: the scaled signals, the penalty with and without the named-text rule."""
    from actions.legal_links import number_key

    group = index.group("passages")
    documents = np.array([number_key(str(d.fields.get("document", ""))) for d in group.documents])
    by_key: dict[tuple[str, str], int] = {}
    for position, document in enumerate(group.documents):
        key = (str(document.fields.get("document", "")), article_key(document.fields.get("article", "")))
        by_key.setdefault(key, int(group.article_ids[position]))
    not_in_force = ~legal_ranking.in_force_mask(group.valid_from, group.valid_until, date.today())
    article_bm25 = ArticleBm25(group)
    saved = legal_ranking.LEGAL_QUESTION_CONCEPTS
    rows = []
    try:
        if not concepts:
            legal_ranking.LEGAL_QUESTION_CONCEPTS = ()
        for line in lines:
            gold = [by_key[k] for g in line.get("gold") or () if g.get("article")
                    if (k := (g["number"], article_key(g["article"]))) in by_key]
            if not gold:
                continue
            for half, text in (("as_written", line["question"]), ("without_diacritics",
                                                                  strip_diacritics(line["question"]))):
                base = index.analyzer.analyze(text)
                query = index.analyzer.analyze_legal(text, base)
                vector = index.embedder.embed_queries([base.dense_text])[0]
                raw = fusion.passage_signals(group, query, vector)
                scaled = np.stack([fusion.fuse({s: raw[s]}, {s: 1.0}, 1.0, np.zeros(len(group), np.float32))
                                   for s in SIGNALS])
                named = raw["document_mention"] >= legal_ranking.NAMED_EXPLICITLY
                rows.append({"id": line["id"], "half": half, "gold": np.array(gold), "scaled": scaled,
                             "penalty": np.where(not_in_force & ~named, 1.0, 0.0).astype(np.float32),
                             "penalty_always": np.where(not_in_force, 1.0, 0.0).astype(np.float32),
                             "article_bm25": article_bm25.scores(query),
                             "procedure_prior": (procedure_prior(index, base, vector, cites, documents)
                                                 if cites is not None else np.zeros(len(group), np.float32))})
    finally:
        legal_ranking.LEGAL_QUESTION_CONCEPTS = saved
    return rows


class Replay:
    def __init__(self, group) -> None:
        ids = group.article_ids
        self.order = np.argsort(ids, kind="stable")
        ordered = ids[self.order]
        self.starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        self.articles = ordered[self.starts]
        self.clauses = np.bincount(ids)[ids].astype(np.float32)
        documents = np.array([str(d.fields.get("document", "")) for d in group.documents])[self.order][self.starts]
        _, self.document_of = np.unique(documents, return_inverse=True)

    def ranks(self, rows: list[dict], weights: np.ndarray, method: str = "", value: float = 0.0) -> np.ndarray:
        """(len(weights), len(rows)) 0-based rank of the best gold article (99 when absent)."""
        out = np.empty((weights.shape[0], len(rows)), dtype=np.int64)
        for j, row in enumerate(rows):
            fused = weights @ row["scaled"] - row["penalty_always" if method == "no named rule" else "penalty"]
            if method == "article BM25":
                fused = fused + value * row["article_bm25"]
            if method == "procedure prior":
                fused = fused + value * row["procedure_prior"]
            if method == "clause-count penalty":
                fused = fused - value * np.log(self.clauses)
            best = np.maximum.reduceat(fused[:, self.order], self.starts, axis=1)
            if method == "document prior":
                top = np.argsort(-best, axis=1)[:, :10]
                share = np.stack([np.bincount(self.document_of[t], minlength=self.document_of.max() + 1) / 10
                                  for t in top])
                best = best + value * np.take_along_axis(share, self.document_of[None, :].repeat(len(top), 0), 1)
            gold = np.isin(self.articles, row["gold"])
            gold_best = np.where(gold, best, -np.inf).max(axis=1)
            out[:, j] = np.minimum((best > gold_best[:, None]).sum(axis=1), 99)
        return out


def figures(ranks: np.ndarray) -> dict[str, float]:
    return {"hit@1": round(float((ranks == 0).mean()), 3), "recall@3": round(float((ranks < 3).mean()), 3),
            "hit@5": round(float((ranks < 5).mean()), 3), "rows": int(ranks.size)}


def merit(ranks: np.ndarray) -> np.ndarray:
    return (ranks == 0).mean(axis=-1) + (ranks < 3).mean(axis=-1)


def by_folds(rows: list[dict], table: np.ndarray, k: int = 4) -> dict:
    """The best of ``table``'s settings on k-1 folds (by article), measured on the last."""
    fold = np.array([zlib.crc32(f"7{'|'.join(map(str, sorted(r['gold'])))}".encode()) % k for r in rows])
    pooled = np.empty(len(rows), dtype=np.int64)
    picks = []
    for f in range(k):
        best = int(np.argmax(merit(table[:, fold != f])))
        picks.append(best)
        pooled[fold == f] = table[best, fold == f]
    return {"by_folds": figures(pooled), "picks": picks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", type=Path, help="the legal tune half (jsonl)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/legal_methods_cv.json"))
    args = parser.parse_args()
    lines = read_lines(args.questions)
    if any(line.get("split") not in (None, "tune") for line in lines):
        raise SystemExit("only the tune half is read here")
    index = deployment_service().index
    group = index.group("passages")
    from motcua.settings import get_settings

    cites = cited_documents(get_settings())
    rows = {concepts: collect(index, lines, concepts, cites if concepts else None) for concepts in (False, True)}
    replay = Replay(group)
    today = np.array([[legal_ranking.LEGAL_FUSION_WEIGHTS[s] for s in SIGNALS]], dtype=np.float32)
    result: dict[str, object] = {
        "no question words": figures(replay.ranks(rows[False], today)[0]),
        "question words, no named rule": figures(replay.ranks(rows[True], today, "no named rule")[0]),
        "today (question words + named rule)": figures(replay.ranks(rows[True], today)[0]),
    }
    for method in ("article BM25", "document prior", "clause-count penalty", "procedure prior"):
        table = np.concatenate([replay.ranks(rows[True], today, method, v) for v in (0.0, *ONE_WEIGHT)])
        result[method] = {"values": (0.0, *ONE_WEIGHT), "in_sample": [figures(t) for t in table],
                          **by_folds(rows[True], table)}
    grid = [{**legal_ranking.LEGAL_FUSION_WEIGHTS, **dict(zip(WEIGHT_GRID, v, strict=True))}
            for v in itertools.product(*WEIGHT_GRID.values())]
    weights = np.array([[g[s] for s in SIGNALS] for g in grid], dtype=np.float32)
    folds = by_folds(rows[True], replay.ranks(rows[True], weights))
    result["fusion weights re-chosen"] = {"by_folds": folds["by_folds"],
                                          "picks": [{k: grid[p][k] for k in WEIGHT_GRID} for p in folds["picks"]]}
    print(json.dumps(result, indent=1, ensure_ascii=False))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
