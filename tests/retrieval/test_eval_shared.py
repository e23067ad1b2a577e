"""The shared dev questions, with the full national catalogue indexed (slow, shared data).

Embeddings are cached under ``var/embeddings`` (or ``$MOTCUA_EMBEDDING_CACHE``): the
first run embeds 2,642 titles and summaries (minutes), later runs take seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from motcua.settings import ROOT
from retrieval.dev.catalogue import read_procedures
from retrieval.documents import procedure_to_document
from retrieval.embedders import CachedEmbedder, EmbeddingCache, create_embedder, default_cache_dir
from retrieval.evaluate import evaluate, read_questions
from retrieval.hybrid import HybridIndex

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


@pytest.fixture(scope="module")
def catalogue_index(shared_data) -> HybridIndex:
    documents = [
        procedure_to_document(p) for p in read_procedures(shared_data / "dichvucong_procedures.jsonl.gz")
    ]
    assert len(documents) == 2642
    index = HybridIndex(CachedEmbedder(create_embedder(), EmbeddingCache(default_cache_dir())))  # the default
    index.build(documents)
    return index


# The weights and the confidence were fitted on these shared questions until 2026-12-06; since then
# they are chosen on the tuning half of tests/data (retrieval/dev/fusion_cv.py, confidence_fit.py), and
# these sets are one more check nobody tunes on. They lost one or two questions they had been fitted to
# and, above all, abstention on no-procedure portal questions (0.80 → 0.65), while the held-out half of
# tests/data gained (resolved 0.600 → 0.743, README). Floors sit at or a little under the figures
# measured then, to catch regressions.


def test_dev_questions_do_not_regress(catalogue_index, shared_data):
    report = evaluate(catalogue_index, read_questions(shared_data / "dev_questions.jsonl"))
    print(report.summary())
    written, bare = report.as_written, report.without_diacritics
    assert written.hit_at_1 >= 0.85  # 0.875
    assert written.hit_at_5 >= 0.95  # 0.958
    assert bare.hit_at_1 >= 0.75  # 0.792
    assert written.abstention_recall >= 0.60  # 0.65 (13 of 20), unaccented 0.60
    assert written.answerable_abstained < 0.10  # 0.042
    assert written.wrong_answer <= 0.10  # 0.042, unaccented 0.083
    assert written.resolved >= 0.85  # 0.917, unaccented 0.875


def test_kiosk_questions_do_not_regress(catalogue_index, shared_data):
    report = evaluate(catalogue_index, read_questions(shared_data / "dev_kiosk_questions.jsonl"))
    print(report.summary())
    # measured: hit@1 0.767 / 0.700 unaccented, hit@5 0.967 / 0.900, five of the six [] declined as
    # written (four unaccented; one question is 0.17), 1–2 of 30 answerable abstained, resolved
    # 0.933 / 0.833, wrong 0.033 / 0.067
    for figures in (report.as_written, report.without_diacritics):
        assert figures.hit_at_1 >= 0.70
        assert figures.hit_at_5 >= 0.90
        assert figures.abstention_recall >= 0.65
        assert figures.answerable_abstained <= 0.10
        assert figures.resolved >= 0.80
        assert figures.wrong_answer <= 0.10


def test_a_deployment_meets_the_targets_through_the_readme_commands(shared_data, tmp_path):
    """What a centre sees: the defaults (FAQ, everyday names, synonyms) with the catalogue
    imported into them, measured by ``motcua eval retrieval`` as the README says."""
    cache = default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    (tmp_path / "search").mkdir()
    (tmp_path / "search" / "embedding-cache").symlink_to(cache, target_is_directory=True)  # once per machine
    env = {**os.environ, "MOTCUA_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    env.pop("MOTCUA_DATABASE_URL", None)

    def motcua(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "motcua.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=1800)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    motcua("db", "upgrade")
    motcua("kb", "load-defaults")
    motcua("kb", "import-dichvucong", str(shared_data / "dichvucong_procedures.jsonl.gz"))
    report = json.loads(motcua("eval", "retrieval", str(shared_data / "dev_questions.jsonl"), "--json"))
    written, bare = report["as_written"], report["without_diacritics"]
    assert (written["answerable"], written["unanswerable"]) == (24, 20)
    # measured 2026-12-06: hit@1 0.833 / 0.750 unaccented, hit@5 0.958, abstention 0.65 / 0.55;
    # 2026-12-07, each name of a procedure searched on its own (kept by the third fresh set, README):
    # hit@1 0.833 / 0.792, hit@5 0.917 (one question of 24 fell from fifth to sixth), abstention 0.65 / 0.60
    assert written["hit_at_1"] >= 0.80
    assert written["hit_at_5"] >= 0.90
    assert bare["hit_at_1"] >= 0.75
    assert written["abstention_recall"] >= 0.60
    assert written["answerable_abstained"] < 0.10
