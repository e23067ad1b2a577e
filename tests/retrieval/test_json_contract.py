"""The JSON the rest of the app reads: exactly these keys, best first."""

from __future__ import annotations

import json

import pytest

from retrieval.embedders import create_embedder
from retrieval.hybrid import HybridIndex
from retrieval.results import PassageHit, ProcedureHit, SearchResponse
from tests.retrieval.synthetic import make_documents


def test_response_serialises_to_exact_shape():
    response = SearchResponse(
        query="khai sinh",
        abstained=False,
        procedures=[ProcedureHit("1.001193", "Thủ tục đăng ký khai sinh", 0.91234567, "procedure:1.001193")],
        passages=[
            PassageHit("60/2014/QH13", "Điều 16", "Người đi đăng ký…", 0.5, "khoản 1 Điều 16 60/2014/QH13")
        ],
        confidence=0.9,
    )
    data = response.to_json()
    assert list(data) == ["query", "abstained", "procedures", "passages"]
    assert data["procedures"] == [{"code": "1.001193", "name": "Thủ tục đăng ký khai sinh", "score": 0.9123}]
    assert data["passages"] == [
        {"document": "60/2014/QH13", "article": "Điều 16", "text": "Người đi đăng ký…", "score": 0.5}
    ]
    assert json.loads(response.dumps()) == data


@pytest.fixture(scope="module")
def index() -> HybridIndex:
    index = HybridIndex(create_embedder())
    index.build(make_documents())
    return index


@pytest.mark.parametrize("query", ["đăng ký khai sinh và điều kiện", "dang ky tam tru", "ăn cơm chưa"])
def test_search_json_has_exact_keys_and_sorted_scores(index, query):
    data = json.loads(json.dumps(index.search(query, top_k=4).to_json(), ensure_ascii=False))
    assert set(data) == {"query", "abstained", "procedures", "passages"}
    assert data["query"] == query and isinstance(data["abstained"], bool)
    for hit in data["procedures"]:
        assert set(hit) == {"code", "name", "score"}
    for hit in data["passages"]:
        assert set(hit) == {"document", "article", "text", "score"}
    for key in ("procedures", "passages"):
        scores = [hit["score"] for hit in data[key]]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores)
    if data["abstained"]:
        assert data["procedures"] == [] and data["passages"] == []
    assert len({hit["code"] for hit in data["procedures"]}) == len(data["procedures"])
