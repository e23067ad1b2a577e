"""The legal targets: the gold article among the cited passages, on the shared legal questions.

The shared library is ingested with ``motcua kb ingest``'s own code into a data directory
holding the default knowledge base (whose synonyms expand the questions) and indexed as a
deployment indexes it (:func:`motcua.search_index.open_index`), embeddings cached under
``var/embeddings`` (minutes the first time on a machine, seconds after). The figures are
those ``motcua eval legal`` prints.
"""

from __future__ import annotations

from datetime import date

import pytest

from knowledge_base.ingest import ingest_legal_files
from knowledge_base.sync import sync_defaults
from motcua.db import upgrade_database
from motcua.legal_eval import evaluate_legal, read_legal_questions
from motcua.search_index import open_index
from motcua.settings import Settings
from retrieval.embedders import default_cache_dir

# On the worker that runs tests/test_legal_conversation.py too (tests/conftest.py, SHARED_UNITS): one embeds.
pytestmark = [pytest.mark.slow, pytest.mark.shared_data]

# The questions are about the day they were written for: Luật Hộ tịch 2014 still in force.
QUESTION_DAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def library_index(shared_data, tmp_path_factory):
    files = sorted((shared_data / "legal").glob("[0-9]*.md"))
    if not files:
        pytest.skip("không có văn bản pháp luật dùng chung (shared legal library absent)")
    settings = Settings(data_dir=tmp_path_factory.mktemp("legal-eval"))
    upgrade_database(settings.sqlalchemy_url)
    sync_defaults(settings.sqlalchemy_url)  # a deployment's procedures, synonyms and FAQ
    outcomes = ingest_legal_files(settings.sqlalchemy_url, files)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    service, report = open_index(settings, cache_dir=default_cache_dir())
    assert report.documents > 2800  # clauses and articles without clauses of the 11 texts
    return service


@pytest.mark.parametrize("name", ["authored", "alqac_subset"])
def test_the_gold_article_is_cited_first_often_and_among_five_almost_always(library_index, shared_data, name):
    questions = read_legal_questions(shared_data / "legal" / "questions" / f"{name}.jsonl")
    figures = evaluate_legal(library_index, questions, on=QUESTION_DAY)
    print(name, figures)
    written = figures["as_written"]
    assert written["questions"] == len(questions) >= 19
    assert written["hit_at_1"] >= 0.70
    assert written["hit_at_5"] >= 0.90
    # Without diacritics the restorer guesses the marks: a little lower, still useful.
    bare = figures["without_diacritics"]
    assert bare["hit_at_1"] >= 0.65 and bare["hit_at_5"] >= 0.90
