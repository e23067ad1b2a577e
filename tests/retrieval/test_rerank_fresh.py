"""The rule that decides the learned reranker on the fresh set (retrieval/dev/rerank_fresh.py, issue 18)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.dev.rerank_fresh import decide, tune_half


def _figs(resolved: float, wrong: float, offered: float, *, bare_shift: float = 0.0) -> dict:
    """Both halves; the one without diacritics shifted by ``bare_shift`` (the rule averages them)."""
    return {
        "as_written": {"resolved": resolved, "wrong_answer": wrong, "offered": offered},
        "without_diacritics": {"resolved": resolved + bare_shift, "wrong_answer": wrong + bare_shift,
                               "offered": offered + bare_shift},
    }


OFF = _figs(0.74, 0.11, 0.24)


@pytest.mark.parametrize(
    ("on", "switch"),
    [
        (_figs(0.75, 0.08, 0.26), True),  # fewer wrong, more resolved, offers up 0.02
        (_figs(0.73, 0.09, 0.24), True),  # resolved down exactly 0.01 is allowed
        (_figs(0.72, 0.08, 0.24), False),  # resolved down 0.02
        (_figs(0.76, 0.10, 0.22), False),  # wrong down only 0.01
        (_figs(0.76, 0.07, 0.28), False),  # offers over 0.25 and up 0.04
        (_figs(0.76, 0.07, 0.25), True),  # offers at the ceiling
    ],
)
def test_the_fixed_rule(on: dict, switch: bool) -> None:
    assert decide(OFF, on)["switch_on"] is switch


def test_the_rule_averages_the_two_halves() -> None:
    # as written wrong drops 0.03, without diacritics it rises 0.01: averaged only 0.01 → not on
    on = {
        "as_written": {"resolved": 0.74, "wrong_answer": 0.08, "offered": 0.24},
        "without_diacritics": {"resolved": 0.74, "wrong_answer": 0.12, "offered": 0.24},
    }
    result = decide(OFF, on)
    assert result["delta_averaged"]["wrong_answer"] == pytest.approx(-0.01)
    assert result["switch_on"] is False


def test_tune_half_agrees_with_the_split_written_in_tests_data() -> None:
    path = Path(__file__).parents[1] / "data" / "procedure_questions.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert {tune_half(row["procedure"]) for row in rows} == {True, False}
    assert all(tune_half(row["procedure"]) == (row["split"] == "tune") for row in rows)
