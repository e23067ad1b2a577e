"""The search index follows the knowledge base: built once, then only what changed."""

from __future__ import annotations

import dataclasses

import pytest

from knowledge_base.ingest import ingest_legal_files
from knowledge_base.store import get_procedure, save_procedure
from knowledge_base.sync import sync_defaults
from motcua.db import session_scope
from motcua.search_index import open_index
from motcua.settings import Settings
from retrieval.embedders import default_cache_dir
from tests.knowledge_base.test_ingest import SAMPLE


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    # The index's own cache place (<data_dir>/search/embedding-cache) is the machine's shared cache, so the
    # defaults are embedded once per machine, not once per test (what is counted here is documents).
    default_cache_dir().mkdir(parents=True, exist_ok=True)
    (tmp_path / "search").mkdir()
    (tmp_path / "search" / "embedding-cache").symlink_to(default_cache_dir(), target_is_directory=True)
    sync_defaults(database_url)
    path = tmp_path / "99-2025-ND-CP.md"
    path.write_text(SAMPLE, encoding="utf-8")
    assert ingest_legal_files(database_url, [path])[0].ok
    return Settings(data_dir=tmp_path, database_url=database_url)


@pytest.mark.slow
def test_the_index_is_built_then_only_an_edited_procedure_is_updated(settings):
    service, first = open_index(settings)
    assert first.built and first.documents > 47
    hit = service.search("lam giay khai sinh can gi", top_k=3)
    assert not hit.abstained and hit.procedures[0].code == "1.001193"
    with session_scope(settings.sqlalchemy_url) as session:
        birth = get_procedure(session, "1.001193")
        save_procedure(session, dataclasses.replace(birth, aliases=[*birth.aliases, "giấy khai sinh em bé"]),
                       actor="staff:test", staff_edit=True)
    _, second = open_index(settings)
    assert not second.built
    assert (second.changed, second.removed) == (1, 0)
    _, third = open_index(settings)
    assert (third.changed, third.removed) == (0, 0)


@pytest.mark.slow
def test_legal_passages_carry_their_citation(settings):
    service, _ = open_index(settings)
    response = service.search("công dân có trách nhiệm nộp lệ phí không", top_k=3, kinds=("passage",))
    assert response.passages
    assert response.passages[0].document == "99/2025/NĐ-CP"
    assert "Điều 2" in response.passages[0].citation


@pytest.mark.slow
def test_building_and_updating_report_their_progress(settings):
    seen: list[tuple[str, int, int]] = []
    _, built = open_index(settings, progress=lambda *step: seen.append(step))
    building = [s for s in seen if s[0] == "Xây chỉ mục tìm kiếm"]
    assert building and building[-1][1:] == (built.documents, built.documents)
    assert [done for _, done, _ in building] == sorted(done for _, done, _ in building)
    seen.clear()
    _, synced = open_index(settings, progress=lambda *step: seen.append(step))
    assert not synced.built
    assert seen[-1] == ("Cập nhật chỉ mục tìm kiếm", synced.documents, synced.documents)
