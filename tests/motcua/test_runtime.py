"""Training fingerprints and the endpoints Rasa is started with."""

from __future__ import annotations

import shutil

from motcua.runtime import endpoints_config, settings_environment, training_fingerprint
from motcua.settings import ROOT, Settings


def _copy_project(tmp_path):
    for name in ("config.yml", "domain.yml", "requirements-rasa.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "nlu_data", tmp_path / "nlu_data")
    return tmp_path


def test_same_inputs_give_the_same_fingerprint_and_a_change_gives_another(tmp_path):
    project = _copy_project(tmp_path)
    first = training_fingerprint(project)
    assert first == training_fingerprint(project)
    assert first == training_fingerprint(ROOT)
    (project / "nlu_data" / "extra.yml").write_text('version: "3.1"\nnlu: []\n')
    assert training_fingerprint(project) != first


def test_sqlite_settings_put_the_tracker_store_in_the_same_file(tmp_path):
    config = endpoints_config(Settings(data_dir=tmp_path))
    assert config["tracker_store"] == {"type": "SQL", "dialect": "sqlite", "db": str(tmp_path / "motcua.sqlite3")}
    assert "lock_store" not in config  # in memory by default
    assert config["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"


def test_postgres_and_redis_settings_reach_rasa(tmp_path):
    settings = Settings(data_dir=tmp_path, database_url="postgresql+psycopg://motcua:pw@db.local:5433/center",
                        redis_url="redis://127.0.0.1:6379/2")
    config = endpoints_config(settings)
    assert config["tracker_store"] == {"type": "SQL", "dialect": "postgresql", "url": "db.local", "port": 5433,
                                       "db": "center", "username": "motcua", "password": "pw"}
    assert config["lock_store"] == {"type": "redis", "url": "127.0.0.1", "port": 6379, "db": 2, "key_prefix": "motcua"}


def test_child_processes_get_the_same_settings(tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path, gateway_port=8123, cors_origins=["https://xa-demo.gov.vn"])
    for key, value in settings_environment(settings).items():
        monkeypatch.setenv(key, value)
    assert Settings() == settings


def test_rasa_is_started_on_localhost_with_its_api_behind_a_token(tmp_path, monkeypatch):
    from pathlib import Path

    from motcua import runtime

    monkeypatch.setattr(runtime, "rasa_executable", lambda: Path("/venv/bin/rasa"))
    settings = Settings(data_dir=tmp_path, demo_portal_port=0)
    stack = runtime.Stack(settings, tmp_path / "model.tar.gz", echo=lambda _: None)
    rasa = next(s for s in stack.services if s.name == "rasa")
    command = rasa.command
    assert command[command.index("--auth-token") + 1] == settings.rasa_token
    assert command[command.index("-i") + 1] == "127.0.0.1" and "--enable-api" in command
    assert rasa.ready_url == f"http://127.0.0.1:5005/status?token={settings.rasa_token}"  # /status needs it too
    gateway = next(s for s in stack.services if s.name == "gateway").command
    assert gateway[gateway.index("--ws-max-size") + 1] == str(settings.max_request_bytes) == str(1024 * 1024)
    # every process derives the same token from the same settings; another key gives another token
    assert len(settings.rasa_token) == 64 and settings.rasa_token not in settings.secret_key
    assert Settings(data_dir=tmp_path).rasa_token == settings.rasa_token
    assert Settings(data_dir=tmp_path, secret_key="k" * 40).rasa_token != settings.rasa_token
