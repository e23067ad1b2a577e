"""The Rasa project itself: its data validates, the story tests pass, the held-out NLU set scores."""

from __future__ import annotations

import pytest

from motcua.rasa_eval import (
    evaluate_nlu,
    evaluate_unseen,
    run_story_tests,
    validate_data,
    write_nlu_report,
    write_unseen_report,
)
from motcua.runtime import ensure_model
from motcua.settings import Settings
from tests.stack import MODEL_CACHE

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Measured once per training-data change and kept as floors (README «NLU on unseen text»); the
# issue's target is 0.90.
UNSEEN_MACRO_F1_FLOOR = 0.86
UNSEEN_DISTINCT_FLOOR = 0.83


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("rasa-project"), models_dir=MODEL_CACHE)


@pytest.fixture(scope="module")
def model(settings):
    return ensure_model(settings, echo=print)


def test_rasa_data_validate_passes(settings):
    result = validate_data(settings)
    assert result.returncode == 0, result.output[-3000:]


def test_every_story_test_passes(settings, model, tmp_path):
    report = run_story_tests(settings, model, tmp_path)
    assert report.total >= 25
    assert report.failed == [], report.output


def test_heldout_nlu_meets_the_targets_and_the_report_is_written(settings, model, tmp_path):
    report = evaluate_nlu(settings, model, tmp_path)
    path = write_nlu_report(report, tmp_path / "reports")
    print(path.read_text())
    assert report.utterances >= 200
    assert report.intent_macro_f1 >= 0.93
    assert report.best_entity_f1 >= 0.90


def test_unseen_nlu_set_is_scored_per_author_and_the_report_is_written(settings, model, tmp_path):
    """The set written apart from training (tests/nlu/unseen/, one file an author)."""
    report = evaluate_unseen(settings, model, tmp_path)
    path = write_unseen_report(report, tmp_path / "reports")
    print(path.read_text())
    assert report.utterances >= 300
    assert len(report.by_author) >= 2
    assert report.intent_macro_f1 >= UNSEEN_MACRO_F1_FLOOR
    assert report.distinct["intent_macro_f1"] >= UNSEEN_DISTINCT_FLOOR
