"""Hybrid search on a small synthetic knowledge base, with the real default embedder."""

from __future__ import annotations

import pytest

from retrieval.documents import procedure_to_document
from retrieval.embedders import Embedder, HashingEmbedder, create_embedder
from retrieval.hybrid import HybridIndex
from tests.retrieval.synthetic import make_documents, make_procedures


@pytest.fixture(scope="module")
def e5() -> Embedder:
    embedder = create_embedder()  # the default: e5-small
    embedder.warm_up()
    return embedder


@pytest.fixture(scope="module")
def index(e5) -> HybridIndex:
    index = HybridIndex(e5)
    index.build(make_documents())
    return index


def _codes(response) -> list[str]:
    return [hit.code for hit in response.procedures]


def test_finds_a_procedure_by_its_name(index):
    response = index.search("thủ tục đăng ký khai tử cần giấy tờ gì", top_k=3)
    assert not response.abstained
    assert _codes(response)[0] == "1.000656"


def test_finds_by_unaccented_query(index):
    response = index.search("dang ky tam tru can giay to gi", top_k=3)
    assert not response.abstained
    assert _codes(response)[0] == "1.004194"


def test_finds_by_kiosk_shorthand(index):
    response = index.search("lam lai cccd bi mat het bn tien vs bao lau", top_k=3)
    assert _codes(response)[0] == "1.014064"


def test_plain_procedure_beats_a_more_specific_one(index):
    assert _codes(index.search("đăng ký kết hôn cần những giấy tờ gì", top_k=3))[0] == "1.000894"


def test_acronyms_in_titles_match_spelled_out_queries(index):
    assert _codes(index.search("mua bảo hiểm y tế cho cả nhà đăng ký ở đâu", top_k=3))[0] == "1.001939"


def test_abstains_on_nonsense(index):
    for query in ("bot ơi ăn cơm chưa", "xyzzy qwerty asdf", "giá vàng hôm nay bao nhiêu"):
        response = index.search(query)
        assert response.abstained, query
        assert response.procedures == [] and response.passages == []


def test_empty_query_abstains(index):
    assert index.search("   ").abstained


def test_passages_are_searched_and_cited(index):
    response = index.search("điều kiện đăng ký tạm trú", kinds=["passage"])
    assert response.procedures == []
    assert response.passages and response.passages[0].document == "68/2020/QH14"
    assert response.passages[0].citation == "Điều 27 68/2020/QH14"


def test_faq_hits_map_to_their_procedures(index):
    ranked, _ = index.rank("mất giấy khai sinh bản gốc xin lại ở đâu", kinds=["faq"])
    assert [hit.code for hit in ranked] == ["1.001193"]


def test_bad_arguments_are_refused(index):
    with pytest.raises(ValueError):
        index.search("khai sinh", top_k=0)
    with pytest.raises(ValueError):
        index.search("khai sinh", kinds=["video"])


def test_incremental_update_changes_results_without_rebuild(e5):
    index = HybridIndex(e5)
    index.build(make_documents())
    procedures = {p.code: p for p in make_procedures()}
    edited = procedures["1.003658"]
    edited.name = "Cấp giấy phép nuôi chim yến trong nhà"
    assert index.upsert(procedure_to_document(edited)) is True  # timed by bench/bench_retrieval.py
    assert _codes(index.search("xin giấy phép nuôi chim yến", top_k=3))[0] == "1.003658"
    assert index.upsert(procedure_to_document(edited)) is False  # unchanged: nothing to do
    assert index.remove("procedure:1.003658") is True
    assert "1.003658" not in [h.code for h in index.rank("xin giấy phép nuôi chim yến")[0]]
    assert index.remove("procedure:1.003658") is False


def test_duplicate_ids_are_refused():
    documents = make_documents()
    with pytest.raises(ValueError, match="duplicate"):
        HybridIndex(HashingEmbedder()).build(documents + documents[:1])


def test_save_and_load_give_the_same_answers(index, e5, tmp_path):
    index.save(tmp_path)
    loaded = HybridIndex.load(tmp_path, e5)
    assert len(loaded) == len(index)
    for query in ("dang ky khai sinh", "giấy phép xây dựng nhà", "ăn cơm chưa"):
        assert loaded.search(query).to_json() == index.search(query).to_json()


def test_loading_with_another_embedder_is_refused(index, tmp_path):
    index.save(tmp_path)
    with pytest.raises(ValueError, match="rebuild"):
        HybridIndex.load(tmp_path, HashingEmbedder())


def test_a_saved_index_takes_up_a_later_release_s_tuning_but_keeps_the_caller_s(tmp_path):
    import json

    from retrieval.abstention import CONFIDENCE_BIAS
    from retrieval.fusion import FUSION_WEIGHTS, LEVEL_BOOST

    default = HybridIndex(HashingEmbedder(), store="numpy")
    default.build(make_documents())
    default.save(tmp_path / "default")
    # as an earlier release, tuned otherwise, would have written it
    manifest_path = tmp_path / "default" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["tuned_in_code"] is True
    manifest.update(weights={**FUSION_WEIGHTS, "query_coverage": 9.0}, level_boost=0.05, confidence_bias=-9.0)
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    loaded = HybridIndex.load(tmp_path / "default", HashingEmbedder())
    assert loaded.weights == FUSION_WEIGHTS
    assert (loaded.level_boost, loaded.confidence_bias) == (LEVEL_BOOST, CONFIDENCE_BIAS)

    custom = HybridIndex(HashingEmbedder(), store="numpy", weights={"query_coverage": 3.0}, confidence_bias=-1.0)
    custom.build(make_documents())
    custom.save(tmp_path / "custom")
    kept = HybridIndex.load(tmp_path / "custom", HashingEmbedder())
    assert kept.weights["query_coverage"] == 3.0 and kept.confidence_bias == -1.0


def test_hashing_embedder_runs_the_whole_pipeline():
    index = HybridIndex(HashingEmbedder(), store="numpy")
    index.build(make_documents())
    ranked, confidence = index.rank("dang ky ket hon")
    assert ranked[0].code == "1.000894"
    assert 0.0 <= confidence <= 1.0


def test_the_embedder_reads_the_first_64_words_by_default():
    analyzer = HybridIndex(HashingEmbedder()).analyzer
    words = [f"từ{i}" for i in range(80)]
    assert analyzer.analyze(" ".join(words)).dense_text.split() == words[:64]


def test_a_token_budget_keeps_the_end_of_a_long_question_in_whole_words(e5):
    index = HybridIndex(e5, dense_query_tokens=20)
    index.build(make_documents())
    count = e5.count_query_tokens
    question = ("Năm 2019 tôi đã đăng ký thường trú tại xã nhưng nay chuyển công tác về tỉnh khác, "
                "xin hỏi thủ tục xóa đăng ký thường trú cần giấy tờ gì?")
    dense = index.analyzer.analyze(question).dense_text
    assert question.endswith(dense)
    assert count(dense) <= 20 < count(" ".join(question.split()[-len(dense.split()) - 1:]))
    assert index.analyzer.analyze("làm giấy khai sinh").dense_text == "làm giấy khai sinh"  # within budget
    assert "đăng ký" in index.search(question).procedures[0].name.lower()
    index.analyzer.dense_tokens = 3
    assert index.analyzer.analyze("đăng ký kết hôn").dense_text == "hôn"  # never empty, even over budget
