"""The ``motcua`` command as a person (or another tool) runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from motcua.settings import ROOT


def motcua(*args: str, data_dir, check=True) -> subprocess.CompletedProcess:
    env = {**os.environ, "MOTCUA_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    env.pop("MOTCUA_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "motcua.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600, check=check)


def test_help_is_bilingual(tmp_path):
    out = motcua("--help", data_dir=tmp_path).stdout
    assert "trợ lý hành chính công" in out and "public-service assistant" in out


@pytest.mark.slow
def test_kb_search_json_contract(tmp_path):
    motcua("db", "upgrade", data_dir=tmp_path)
    motcua("kb", "load-defaults", data_dir=tmp_path)
    result = motcua("kb", "search", "làm giấy khai sinh cần gì", "--top", "3", "--json", data_dir=tmp_path)
    body = json.loads(result.stdout)
    assert set(body) == {"query", "abstained", "procedures", "passages"}
    assert body["query"] == "làm giấy khai sinh cần gì"
    assert isinstance(body["abstained"], bool) and not body["abstained"]
    assert body["procedures"][0]["code"] == "1.001193"
    assert all(set(p) == {"code", "name", "score"} for p in body["procedures"])
    scores = [p["score"] for p in body["procedures"]]
    assert scores == sorted(scores, reverse=True) and len(scores) <= 3


def test_a_missing_catalogue_file_is_a_clear_error(tmp_path):
    motcua("db", "upgrade", data_dir=tmp_path)
    result = motcua("kb", "import-dichvucong", str(tmp_path / "khong-co.jsonl"), data_dir=tmp_path, check=False)
    assert result.returncode != 0
    assert "Lỗi" in result.stdout


def test_kb_stats_leaves_out_what_staff_deleted(tmp_path):
    from knowledge_base.curation import delete_synonym, list_synonym_items
    from motcua.db import session_scope

    motcua("db", "upgrade", data_dir=tmp_path)
    motcua("kb", "load-defaults", data_dir=tmp_path)

    def synonyms_line() -> str:
        out = motcua("kb", "stats", data_dir=tmp_path).stdout
        return next(line for line in out.splitlines() if line.startswith("Từ đồng nghĩa"))

    before = int(synonyms_line().rsplit(":", 1)[1])
    with session_scope(f"sqlite:///{tmp_path / 'motcua.sqlite3'}") as session:
        first = list_synonym_items(session)[0]
        delete_synonym(session, first.id, actor="staff:test")
    assert int(synonyms_line().rsplit(":", 1)[1]) == before - 1
