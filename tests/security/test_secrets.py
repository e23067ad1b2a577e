"""Secrets: no code path signs anything with a key an attacker can know."""

from __future__ import annotations

import os
import stat
import threading

import pytest
from pydantic import ValidationError

from motcua.runtime import settings_environment
from motcua.settings import (
    MIN_SECRET_KEY_LENGTH,
    SECRET_KEY_FILE,
    Settings,
    load_or_create_secret_key,
)

STRONG = "k" * MIN_SECRET_KEY_LENGTH


@pytest.fixture(autouse=True)
def _no_secret_in_environment(monkeypatch):
    monkeypatch.delenv("MOTCUA_SECRET_KEY", raising=False)
    monkeypatch.delenv("MOTCUA_ENVIRONMENT", raising=False)


def test_an_unset_key_is_generated_once_into_the_data_directory_readable_only_by_the_owner(tmp_path):
    first = Settings(data_dir=tmp_path)
    second = Settings(data_dir=tmp_path)
    assert first.environment == "development"
    assert len(first.secret_key) >= MIN_SECRET_KEY_LENGTH
    assert first.secret_key == second.secret_key  # every process of one installation signs alike
    key_file = tmp_path / SECRET_KEY_FILE
    assert key_file.read_text().strip() == first.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert Settings(data_dir=tmp_path / "other").secret_key != first.secret_key  # never a shared default


def test_processes_starting_together_agree_on_one_generated_key(tmp_path):
    keys: list[str] = []
    threads = [threading.Thread(target=lambda: keys.append(load_or_create_secret_key(tmp_path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and len(keys) == 8
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_KEY_FILE]  # no temporary file left behind


@pytest.mark.parametrize("environment", ["development", "production"])
@pytest.mark.parametrize("key", ["dev-secret-change-me", "short-but-not-published", "x" * (MIN_SECRET_KEY_LENGTH - 1)])
def test_a_published_or_short_key_is_refused_outside_the_test_suite(tmp_path, environment, key):
    with pytest.raises(ValidationError, match="MOTCUA_SECRET_KEY"):
        Settings(data_dir=tmp_path, environment=environment, secret_key=key)


def test_the_published_default_is_refused_from_the_environment_too(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTCUA_SECRET_KEY", "dev-secret-change-me")
    with pytest.raises(ValidationError, match="khóa mẫu"):
        Settings(data_dir=tmp_path)


def test_a_strong_key_is_used_as_given_and_nothing_is_written(tmp_path):
    settings = Settings(data_dir=tmp_path, environment="production", secret_key=STRONG)
    assert settings.secret_key == STRONG
    assert not (tmp_path / SECRET_KEY_FILE).exists()
    assert STRONG not in repr(settings)  # never printed with the settings


def test_only_the_test_suite_may_use_a_weak_key(tmp_path):
    assert Settings(data_dir=tmp_path, environment="test", secret_key="short").secret_key == "short"


def test_environment_is_a_checked_choice(tmp_path):
    with pytest.raises(ValidationError, match="environment"):
        Settings(data_dir=tmp_path, environment="prod")


def test_child_processes_receive_the_generated_key_not_a_new_one(tmp_path):
    settings = Settings(data_dir=tmp_path)
    child_env = settings_environment(settings)
    assert child_env["MOTCUA_SECRET_KEY"] == settings.secret_key
    os.environ.update(child_env)
    try:
        assert Settings().secret_key == settings.secret_key
    finally:
        for name in child_env:
            os.environ.pop(name, None)
