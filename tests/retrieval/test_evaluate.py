"""Reading question files and computing the figures."""

from __future__ import annotations

import json

import pytest

from retrieval.decision import DecisionPolicy
from retrieval.embedders import create_embedder
from retrieval.evaluate import Question, evaluate, read_questions
from retrieval.hybrid import HybridIndex
from tests.retrieval.synthetic import make_documents


def _write(tmp_path, lines: list[str]):
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_read_questions(tmp_path):
    path = _write(
        tmp_path,
        [
            json.dumps({"id": "q1", "question": "đăng ký khai sinh", "expected": ["1.001193"]}),
            "",
            json.dumps({"id": "q2", "question": "ăn cơm chưa", "expected": []}),
        ],
    )
    questions = read_questions(path)
    assert questions == [
        Question("q1", "đăng ký khai sinh", ("1.001193",)),
        Question("q2", "ăn cơm chưa", ()),
    ]
    assert questions[0].answerable and not questions[1].answerable


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "expected an object"),
        (json.dumps({"id": "q", "question": "x"}), "missing keys"),
        (json.dumps({"id": "", "question": "x", "expected": []}), "'id'"),
        (json.dumps({"id": "q", "question": " ", "expected": []}), "'question'"),
        (json.dumps({"id": "q", "question": "x", "expected": "1.001193"}), "'expected'"),
    ],
)
def test_bad_lines_name_the_file_and_line(tmp_path, line, message):
    path = _write(tmp_path, [json.dumps({"id": "ok", "question": "x", "expected": []}), line])
    with pytest.raises(ValueError, match=message) as error:
        read_questions(path)
    assert f"{path}:2" in str(error.value)


def test_duplicate_ids_are_refused(tmp_path):
    line = json.dumps({"id": "q", "question": "x", "expected": []})
    with pytest.raises(ValueError, match="duplicate"):
        read_questions(_write(tmp_path, [line, line]))


def test_evaluate_on_the_synthetic_set():
    index = HybridIndex(create_embedder())
    index.build(make_documents())
    questions = [
        Question("a", "Đăng ký khai tử cho bố cần giấy tờ gì?", ("1.000656",)),
        Question("b", "xin giấy phép xây dựng nhà ở đâu", ("1.013225",)),
        Question("c", "đăng ký tạm trú ở đâu", ("1.004194",)),
        Question("d", "bot ơi ăn cơm chưa", ()),
    ]
    # the synthetic index's toy embedder is not calibrated like the deployment's: decide at its own threshold
    at = index.abstain_threshold
    report = evaluate(index, questions, policy=DecisionPolicy(answer_at=at, offer_at=at))
    for figures in (report.as_written, report.without_diacritics):
        assert figures.answerable == 3 and figures.unanswerable == 1
        assert figures.hit_at_1 == 1.0 and figures.hit_at_5 == 1.0 and figures.mrr == 1.0
        assert figures.abstention_recall == 1.0
        assert figures.answerable_abstained == 0.0
    assert "hit@1" in report.summary()
    assert set(report.to_dict()) == {"as_written", "without_diacritics", "seconds"}


def test_evaluate_needs_questions():
    with pytest.raises(ValueError):
        evaluate(HybridIndex(create_embedder()), [])
