"""RetrievalService: build, persist, reload, update, remove, search."""

from __future__ import annotations

import pytest

from knowledge_base.schema import Synonym
from retrieval.embedders import HashingEmbedder
from retrieval.service import RetrievalService, documents_from
from tests.retrieval.synthetic import make_documents, make_procedures


@pytest.fixture
def service(tmp_path) -> RetrievalService:
    service = RetrievalService()
    service.build(make_documents(), tmp_path / "data")
    return service


def test_search_before_build_fails_clearly():
    with pytest.raises(RuntimeError, match="build"):
        RetrievalService(embedder=HashingEmbedder()).search("khai sinh")


def test_build_then_search(service):
    response = service.search("lam giay khai sinh cho con", top_k=3)
    assert not response.abstained
    assert response.procedures[0].code == "1.001193"


def test_load_gives_the_same_answers(service, tmp_path):
    again = RetrievalService()
    again.load(tmp_path / "data")
    for query in ("đăng ký thường trú", "dang ky ket hon voi nguoi nuoc ngoai", "hôm nay trời đẹp"):
        assert again.search(query).to_json() == service.search(query).to_json()


def test_upsert_is_saved_and_survives_reload(service, tmp_path):
    procedure = {p.code: p for p in make_procedures()}["1.009456"]
    procedure.name = "Cấp phép tổ chức lễ hội đua thuyền truyền thống"
    assert service.upsert_procedure(procedure)
    assert service.search("xin phép tổ chức đua thuyền", top_k=1).procedures[0].code == "1.009456"
    again = RetrievalService()
    again.load(tmp_path / "data")
    assert again.search("xin phép tổ chức đua thuyền", top_k=1).procedures[0].code == "1.009456"


def test_remove_is_saved(service, tmp_path):
    assert service.remove("procedure:1.004194")
    again = RetrievalService()
    again.load(tmp_path / "data")
    assert "1.004194" not in [h.code for h in again.rank("đăng ký tạm trú")[0]]


def test_embeddings_are_cached_in_the_data_dir(tmp_path):
    service = RetrievalService()
    service.build(make_documents(), tmp_path / "data")
    assert (tmp_path / "data" / "embedding-cache" / "embeddings.sqlite3").exists()


def test_loading_an_empty_dir_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError):
        RetrievalService(embedder=HashingEmbedder()).load(tmp_path)


def test_extra_synonyms_are_used(tmp_path):
    service = RetrievalService(synonyms=[Synonym("giấy phép đua ghe", "đăng ký kết hôn")])
    service.build(make_documents(), tmp_path / "data")
    assert service.search("giay phep dua ghe", top_k=1).procedures[0].code == "1.000894"


def test_documents_from_knowledge_base_objects():
    documents = documents_from(procedures=make_procedures()[:2])
    assert [d.id for d in documents] == ["procedure:1.001193", "procedure:1.000894"]
