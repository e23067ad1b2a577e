"""The learned reranker (retrieval/rerank.py): its features, its ordering, and that the live search uses it."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge_base.schema import Procedure, RequiredDocument
from retrieval import fusion, rerank
from retrieval.documents import procedure_to_document
from retrieval.embedders import HashingEmbedder
from retrieval.hybrid import HybridIndex

# Siblings that differ by a word or two, and a province-level twin of the commune procedure.
SIBLINGS = [
    ("K1", "Đăng ký kết hôn", ["Cấp xã"]),
    ("K2", "Đăng ký lại kết hôn", ["Cấp xã"]),
    ("K3", "Đăng ký kết hôn có yếu tố nước ngoài", ["Cấp xã"]),
    ("T1", "Cấp giấy phép xây dựng", ["Cấp xã"]),
    ("T2", "Cấp giấy phép xây dựng", ["Cấp tỉnh"]),
    ("X1", "Đăng ký khai tử", ["Cấp xã"]),
]


def _documents():
    return [
        procedure_to_document(
            Procedure(
                code=code,
                name=name,
                field="Hộ tịch",
                levels=levels,
                documents=[RequiredDocument(name="Tờ khai")],
            )
        )
        for code, name, levels in SIBLINGS
    ]


def _weights(**named: float) -> rerank.Reranker:
    """A hand-set model: the named features' weights, every scale 1 and mean 0."""
    unknown = set(named) - set(rerank.FEATURES)
    assert not unknown, unknown
    n = len(rerank.FEATURES)
    return rerank.Reranker(
        weights=tuple(named.get(f, 0.0) for f in rerank.FEATURES), mean=(0.0,) * n, scale=(1.0,) * n
    )


# Prefers the fused order, and a candidate whose distinguishing words the question says.
CONTRAST_MODEL = _weights(fused=2.0, sibling_extra_unsaid=-3.0, sibling_lack_said=-3.0, twin_preferred=1.0)


@pytest.fixture(scope="module")
def index() -> HybridIndex:
    built = HybridIndex(HashingEmbedder(), reranker=None)
    built.build(_documents())
    return built


def _features(index: HybridIndex, query: str) -> dict[str, dict[str, float]]:
    group = index.group("procedures")
    analyzed = index.analyzer.analyze(query)
    vector = index.embedder.embed_queries([analyzed.dense_text])[0]
    signals = fusion.signals(group, analyzed, vector)
    fused = fusion.fuse(signals, index.weights, index.level_boost, group.preferred)
    order = np.argsort(-fused, kind="stable")
    positions, rows = rerank.candidate_features(group, analyzed, signals, fused, order, index.total_weight)
    codes = [group.documents[int(p)].fields["code"] for p in positions]
    assert rows.shape == (len(SIBLINGS), len(rerank.FEATURES))
    return {code: dict(zip(rerank.FEATURES, row, strict=True)) for code, row in zip(codes, rows, strict=True)}


def test_contrast_features_see_the_words_in_which_sibling_names_differ(index):
    said_foreign = _features(index, "đăng ký kết hôn với người nước ngoài")
    # the «nước ngoài» variant: its extra words (beyond the plain name) are said
    assert said_foreign["K3"]["sibling_extra_said"] >= 2
    # the plain procedure: the question says words its closest rival has and it lacks
    assert said_foreign["K1"]["sibling_lack_said"] >= 2
    assert said_foreign["K1"]["rival_words"] > said_foreign["K3"]["rival_words"]
    # «lại» is not said: the re-registration's extra word is unsaid
    assert said_foreign["K2"]["sibling_extra_unsaid"] >= 1
    assert said_foreign["K2"]["distinct_missing"] > 0

    plain = _features(index, "dang ky ket hon can giay to gi")  # without diacritics
    assert plain["K1"]["sibling_lack_said"] == 0 and plain["K1"]["distinct_covered"] == 1.0
    assert plain["K3"]["sibling_extra_unsaid"] >= 3  # có yếu tố nước ngoài
    assert plain["K1"]["name_coverage"] == 1.0


def test_level_and_twin_features(index):
    rows = _features(index, "xin giấy phép xây dựng nhà ở")
    assert (
        rows["T1"]["preferred"] == 1.0
        and rows["T1"]["twin_preferred"] == 1.0
        and rows["T1"]["twin_other"] == 0.0
    )
    assert (
        rows["T2"]["preferred"] == 0.0
        and rows["T2"]["level_province"] == 1.0
        and rows["T2"]["twin_other"] == 1.0
    )
    assert rows["X1"]["twin_preferred"] == rows["X1"]["twin_other"] == 0.0


def _reranked_codes(index: HybridIndex, model: rerank.Reranker, query: str) -> tuple[list[str], np.ndarray]:
    group = index.group("procedures")
    analyzed = index.analyzer.analyze(query)
    vector = index.embedder.embed_queries([analyzed.dense_text])[0]
    signals = fusion.signals(group, analyzed, vector)
    fused = fusion.fuse(signals, index.weights, index.level_boost, group.preferred)
    order = np.argsort(-fused, kind="stable")
    result = rerank.rerank(model, group, analyzed, signals, fused, order, index.total_weight)
    assert sorted(result.order.tolist()) == list(range(len(group)))  # a permutation: nothing lost
    codes = [group.documents[int(p)].fields["code"] for p in result.order]
    return codes, result.scores[result.order]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("đăng ký kết hôn với người nước ngoài", "K3"),
        ("dang ky lai ket hon vi so goc bi chay", "K2"),
        ("đăng ký kết hôn cần giấy tờ gì", "K1"),
    ],
)
def test_the_contrast_model_puts_the_sibling_the_question_describes_first(index, query, first):
    codes, scores = _reranked_codes(index, CONTRAST_MODEL, query)
    assert codes[0] == first
    assert np.all(np.diff(scores) <= 1e-12)  # scores follow the new order
    assert scores.sum() == pytest.approx(1.0)  # listwise: a distribution over the candidates


def test_the_depth_limits_what_is_reordered(index):
    model = rerank.Reranker(
        weights=tuple(-w for w in _weights(fused=1.0).weights),
        mean=(0.0,) * len(rerank.FEATURES),
        scale=(1.0,) * len(rerank.FEATURES),
        depth=2,
    )  # prefers the worse of the first two
    group = index.group("procedures")
    analyzed = index.analyzer.analyze("đăng ký khai tử")
    vector = index.embedder.embed_queries([analyzed.dense_text])[0]
    signals = fusion.signals(group, analyzed, vector)
    fused = fusion.fuse(signals, index.weights, index.level_boost, group.preferred)
    order = np.argsort(-fused, kind="stable")
    result = rerank.rerank(model, group, analyzed, signals, fused, order, index.total_weight)
    assert result.order[:2].tolist() == order[:2][::-1].tolist()
    assert result.order[2:].tolist() == order[2:].tolist()
    assert result.scores[result.order[2]] <= result.scores[result.order[1]]


def test_the_live_search_uses_the_reranker(index):
    live = HybridIndex(HashingEmbedder(), reranker=CONTRAST_MODEL)
    live.build(_documents())
    response = live.search("đăng ký kết hôn với người nước ngoài", top_k=3, kinds=("procedure",))
    hits, _ = live.rank("đăng ký kết hôn với người nước ngoài")
    expected, scores = _reranked_codes(index, CONTRAST_MODEL, "đăng ký kết hôn với người nước ngoài")
    assert [h.code for h in hits] == expected
    assert [h.score for h in hits] == pytest.approx(scores.tolist())
    assert "rerank_top" in response.features["procedures"]
    # a model that prefers what the fusion ranks last turns the live order around
    backwards = HybridIndex(HashingEmbedder(), reranker=_weights(fused=-50.0))
    backwards.build(_documents())
    plain, _ = index.rank("đăng ký khai tử")
    reversed_, _ = backwards.rank("đăng ký khai tử")
    assert reversed_[0].code == plain[-1].code and reversed_[0].code != plain[0].code


def test_the_shipped_model_is_loaded_by_default():
    shipped = rerank.load_default()
    assert HybridIndex(HashingEmbedder()).reranker == shipped
    if shipped is not None:
        assert shipped.features == rerank.FEATURES and shipped.depth >= 2


def test_a_model_round_trips_through_json_and_refuses_other_features(tmp_path):
    model = _weights(fused=1.5, rival_words=-0.25)
    again = rerank.Reranker.from_json(model.to_json())
    assert again == model
    path = tmp_path / "model.json"
    assert rerank.load_default(path) is None
    data = model.to_json()
    data["features"] = {**data["features"], "unknown_signal": {"weight": 1, "mean": 0, "scale": 1}}
    with pytest.raises(ValueError, match="features differ"):
        rerank.Reranker.from_json(data)
    with pytest.raises(ValueError, match="scales"):
        rerank.Reranker(weights=model.weights, mean=model.mean, scale=(0.0,) * len(rerank.FEATURES))


def test_the_dev_script_learns_and_replays_what_the_live_search_does(index):
    from retrieval.dev import rerank_cv

    lines = [
        {"question": "đăng ký kết hôn với người nước ngoài", "expected": ["K3"], "procedure": "K3"},
        {"question": "đăng ký lại kết hôn vì sổ gốc bị cháy", "expected": ["K2"], "procedure": "K2"},
        {"question": "đăng ký kết hôn cần giấy tờ gì", "expected": ["K1"], "procedure": "K1"},
        {"question": "xin giấy phép xây dựng nhà ở", "expected": ["T1"], "procedure": "T1"},
        {"question": "đăng ký khai tử cho bố", "expected": ["X1"], "procedure": "X1"},
        {"question": "giá vàng hôm nay", "expected": [], "procedure": None},
    ]
    rows = rerank_cv.collect(index, lines)
    assert len(rows) == 2 * len(lines) and all(len(r.codes) == len(SIBLINGS) for r in rows)
    spec = rerank_cv.Spec("listwise", rerank.FEATURES, 1.0, 4)
    model = rerank_cv.train(spec, rows)
    assert model.depth == 4 and model.kind == "listwise"
    live = HybridIndex(HashingEmbedder(), reranker=model)
    live.build(_documents())
    for row, text in zip(rows, [t for line in lines for t in (line["question"], None)], strict=True):
        if text is None:
            continue
        replayed = rerank_cv.replay(row, model)
        hits, _ = live.rank(text)
        assert [h.code for h in hits] == [code for code, _ in replayed.ranked.hits]
        assert [h.score for h in hits] == pytest.approx([score for _, score in replayed.ranked.hits])
    # learned on these questions, it puts each one's procedure first
    assert all(rerank_cv.rank_of(rerank_cv.replay(r, model)) == 0 for r in rows if r.gold)
