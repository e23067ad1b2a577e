"""The tuning tools of ``retrieval.dev.tune`` on the synthetic knowledge base."""

from __future__ import annotations

import pytest

from retrieval.dev import tune
from retrieval.embedders import create_embedder
from retrieval.evaluate import Question
from retrieval.hybrid import HybridIndex
from tests.retrieval.synthetic import make_documents

QUESTIONS = [
    Question("a", "Đăng ký khai tử cho bố cần giấy tờ gì?", ("1.000656",)),
    Question("b", "xin giấy phép xây dựng nhà ở đâu", ("1.013225",)),
    Question("c", "đăng ký tạm trú ở đâu", ("1.004194",)),
    Question("d", "làm giấy khai sinh cho con", ("1.001193",)),
    Question("e", "lấy vợ nước ngoài thì đăng ký ở đâu", ("2.000806",)),
    Question("f", "mất căn cước làm lại thế nào", ("1.014064",)),
    Question("g", "mở hộ kinh doanh cần gì", ("1.001612",)),
    Question("h", "công chứng bản sao giấy tờ", ("2.000815",)),
    Question("i", "thủ tục không có trong danh mục", ("9.999999",)),  # expected code not indexed
    Question("j", "bot ơi ăn cơm chưa", ()),
]
GRID = {"full_accented": [0, 1], "full_bare": [0, 1], "dense_summary": [0, 1], "level_boost": [0, 0.4]}


@pytest.fixture(scope="module")
def setup():
    index = HybridIndex(create_embedder())
    index.build(make_documents())
    return index, tune.collect(index, {"dev": QUESTIONS})


def test_the_rank_matrix_agrees_with_ranking_one_setting_at_a_time(setup):
    index, samples = setup
    settings = tune.settings_of(GRID)
    assert len(settings) == 14  # 16 less the two that weigh no score at all
    answerable = [s for s in samples if s.question.expected]
    ranks = tune.rank_matrix(index, answerable, settings)
    for i, weights in enumerate(settings):
        for j, sample in enumerate(answerable):
            expected_rank = tune.rank_of_expected(index, sample, weights)[0]
            if sample.question.id == "i":
                assert ranks[i, j] == tune.MISSING  # counted as a miss, not skipped
            else:
                assert ranks[i, j] == expected_rank


def test_grid_search_ranks_settings_by_objective(setup):
    index, samples = setup
    results = tune.grid_search(index, samples, GRID, keep=None)
    objectives = [r[0] for r in results]
    assert objectives == sorted(objectives, reverse=True)
    best = results[0][2]
    assert set(best) == {"dev", "dev-bare"}
    hit1, hit5, mrr = best["dev"]
    assert hit1 >= 7 / 9 and hit5 >= 8 / 9  # 8 of the 9 answerable are indexed and easy
    assert hit5 <= 8 / 9  # the unindexed one is always a miss
    assert 0 < mrr <= hit5


def test_cross_validation_with_one_setting_is_that_setting(setup):
    index, samples = setup
    only = {"full_accented": [1], "full_bare": [1], "dense_summary": [1], "level_boost": [0.4]}
    full = tune.grid_search(index, samples, only, keep=None)[0][2]
    held_out = tune.cross_validate(tune.measure(index, samples, only), folds=3)
    assert held_out.keys() == full.keys()
    for name in full:
        assert held_out[name] == pytest.approx(full[name])


def test_cross_validation_reports_the_dev_sets_and_keeps_the_others_in_training(setup, monkeypatch):
    index, _ = setup
    kiosk = [Question("k1", "dang ky ket hon", ("1.000894",)), Question("k2", "lam so ho khau", ("1.004222",))]
    samples = tune.collect(index, {"dev": QUESTIONS, "kiosk": kiosk})
    seen = []
    real_choose = tune.choose

    def spy(results, *args, **kwargs):
        seen.append(set(results[0][2]))
        return real_choose(results, *args, **kwargs)

    monkeypatch.setattr(tune, "choose", spy)
    held_out = tune.cross_validate(tune.measure(index, samples, GRID), folds=3)
    assert set(held_out) == {"dev", "dev-bare"}
    assert len(seen) == 3 and all({"kiosk", "kiosk-bare", "dev", "dev-bare"} <= names for names in seen)
    for hit1, hit5, mrr in held_out.values():
        assert 0.0 <= hit1 <= mrr <= hit5 <= 8 / 9 + 1e-6
