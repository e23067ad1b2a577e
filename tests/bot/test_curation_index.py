"""After a staff edit the action server (a separate process in production; a real HTTP server here)
catches up without a rebuild: names, aliases and synonyms are found, and only the edited document
is re-embedded. When the action server is down the edit is kept and the index catches up at start."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from actions.server import create_app as create_action_server
from bot.app import create_app
from motcua.db import upgrade_database
from tests.bot.test_curation_api import BIRTH, curation_settings
from tests.servers import free_port, serve_in_thread
from tests.staff.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.integration

NEW_ALIAS = "giấy chào đời bé yêu"


@pytest.fixture
def stack(tmp_path):
    """(gateway settings, action server app, action server port) over one SQLite knowledge base."""
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    upgrade_database(url)
    port = free_port()
    settings = curation_settings(tmp_path, url, action_url=f"http://127.0.0.1:{port}/webhook")
    settings = settings.model_copy(update={"embedding_model": "hashing"})
    return settings, port


def _embedded(knowledge) -> int:
    """Texts sent to the embedding model itself (cache misses) since the action server started."""
    return knowledge.search._embedder.misses


def test_an_edit_reaches_the_running_action_server_and_re_embeds_only_that_procedure(stack):
    settings, port = stack
    actions = create_action_server(settings)
    with serve_in_thread(actions, port=port), TestClient(create_app(settings)) as gateway:
        knowledge = actions.state.services.knowledge
        documents = len(knowledge.search.index)
        assert documents > 47
        assert BIRTH not in [m.code for m in knowledge.find_named(f"cho hỏi làm {NEW_ALIAS}").matches]
        before = _embedded(knowledge)

        sign_in(gateway, "canbo", PASSWORD)
        procedure = gateway.get(f"/api/v1/kb/procedures/{BIRTH}").json()["procedure"]
        procedure["name"] = "Đăng ký khai sinh cho trẻ em"
        procedure["aliases"].append(NEW_ALIAS)
        saved = gateway.put(f"/api/v1/kb/procedures/{BIRTH}", json={"procedure": procedure, "version": 1})
        assert saved.status_code == 200, saved.text
        index = saved.json()["index"]
        assert index["updated"] is True and (index["changed"], index["removed"]) == (1, 0)
        assert "Trợ lý đã dùng thay đổi này" in index["message"]

        # only the edited procedure was embedded again: its title, its summary and its new alias (each
        # name is embedded alone too; its other aliases were already), nothing else
        assert _embedded(knowledge) - before == 3
        assert len(knowledge.search.index) == documents
        # the alias finder (names and aliases staff keep) and the index both know the new wording
        found = knowledge.find_named(f"cho hỏi làm {NEW_ALIAS} thế nào")
        assert [m.code for m in found.matches][:1] == [BIRTH]
        assert knowledge.get(BIRTH).name == "Đăng ký khai sinh cho trẻ em"
        assert NEW_ALIAS in knowledge.search.index.get(f"procedure:{BIRTH}").text
        ranked, _ = knowledge.search.rank("giấy chào đời bé yêu")
        assert ranked[0].code == BIRTH

        # a synonym only changes how queries are read: nothing is re-embedded
        before = _embedded(knowledge)
        added = gateway.post("/api/v1/kb/synonyms", json={"phrase": "tờ chào đời", "canonical": "khai sinh"})
        assert added.status_code == 201 and added.json()["index"]["updated"] is True
        assert added.json()["index"]["changed"] == 0 and _embedded(knowledge) == before
        assert "khai" in knowledge.search.index.analyzer.analyze("làm tờ chào đời").tokens
        # a deleted synonym is gone from the analyser too
        gateway.delete(f"/api/v1/kb/synonyms/{added.json()['key']}")
        assert "khai" not in knowledge.search.index.analyzer.analyze("làm tờ chào đời").tokens

        # the refresh is idempotent: nothing left to do
        assert gateway.post("/api/v1/kb/index/refresh").json()["changed"] == 0


def test_with_the_action_server_down_the_edit_is_saved_and_the_index_catches_up_at_start(stack):
    settings, port = stack
    actions = create_action_server(settings)
    with serve_in_thread(actions, port=port):
        pass  # built and saved the index once, then stopped
    with TestClient(create_app(settings)) as gateway:
        sign_in(gateway, "canbo", PASSWORD)
        procedure = gateway.get(f"/api/v1/kb/procedures/{BIRTH}").json()["procedure"]
        procedure["aliases"].append(NEW_ALIAS)
        saved = gateway.put(f"/api/v1/kb/procedures/{BIRTH}", json={"procedure": procedure})
        assert saved.status_code == 200 and saved.json()["version"] == 2
        assert saved.json()["index"]["updated"] is False
        assert "sẽ có hiệu lực khi trợ lý khởi động" in saved.json()["index"]["message"]
    restarted = create_action_server(settings)
    with serve_in_thread(restarted, port=port):
        knowledge = restarted.state.services.knowledge
        assert _embedded(knowledge) == 2  # the edited procedure's summary and its new alias; its title did not change
        assert [m.code for m in knowledge.find_named(f"làm {NEW_ALIAS}").matches][:1] == [BIRTH]
