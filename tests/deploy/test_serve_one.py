"""``motcua serve-one``: one child of ``motcua serve`` in the foreground, as Docker and systemd run it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.deploy.deploy_files import Installation, supervisors_command
from tests.servers import free_port


def serve_one(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("MOTCUA_")}
    return subprocess.run(
        [sys.executable, "-m", "motcua.cli", "serve-one", *args],
        env={**clean, **env, "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_an_unknown_child_is_named_in_a_clear_error(installation: Installation):
    result = serve_one("worker", env=installation.environment({}))
    assert result.returncode == 1
    assert "không có tiến trình «worker»" in result.stdout and "action-server, rasa, gateway" in result.stdout


def test_the_demo_portal_does_not_run_on_a_server(installation: Installation):
    env = installation.environment({"MOTCUA_PORTAL_URL": "https://dichvucong.example/api"})
    result = serve_one("fake-portal", "--print", env=env)
    assert result.returncode == 1 and "bản trình diễn" in result.stdout


def test_rasa_without_a_trained_model_says_to_prepare_first(installation: Installation):
    installation.model.unlink()
    result = serve_one("rasa", env=installation.environment({}))
    assert result.returncode == 1
    assert "Chưa có mô hình Rasa" in result.stdout and "motcua prepare" in result.stdout
    assert not (
        installation.data_dir / "runtime" / "endpoints.yml"
    ).exists()  # nothing started, nothing written


def test_the_readiness_probe_fails_while_nothing_answers(installation: Installation):
    env = installation.environment({"MOTCUA_ACTION_PORT": str(free_port())})
    assert serve_one("action-server", "--check", env=env).returncode == 1


def test_print_hides_rasas_api_token(installation: Installation):
    from motcua.settings import Settings

    env = installation.environment({"MOTCUA_SECRET_KEY": "t" * 48})
    printed = serve_one("rasa", "--print", env=env).stdout
    assert "--auth-token" in printed and Settings(secret_key="t" * 48).rasa_token not in printed


@pytest.mark.integration
def test_the_gateway_process_becomes_exactly_what_the_supervisor_starts(
    installation: Installation, monkeypatch
):
    """Run for real: ``serve-one`` replaces itself (exec) with the supervisor's command line, answers the
    probe, and stops on SIGTERM as under systemd or Docker."""
    env = installation.environment(
        {
            "MOTCUA_GATEWAY_PORT": str(free_port()),
            "MOTCUA_RASA_PORT": str(free_port()),
            "MOTCUA_ACTION_PORT": str(free_port()),
            "MOTCUA_DEMO_PORTAL_PORT": "0",
        }
    )
    clean = {key: value for key, value in os.environ.items() if not key.startswith("MOTCUA_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "motcua.cli", "serve-one", "gateway"],
        env={**clean, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ready = False
        for _ in range(240):
            if process.poll() is not None:
                break
            if serve_one("gateway", "--check", env=env, timeout=60).returncode == 0:
                ready = True
                break
            time.sleep(0.5)
        assert ready, process.stdout.read() if process.poll() is not None else "the gateway never answered"
        running = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode().split("\0")[:-1]
        assert running == supervisors_command(
            "gateway", env, installation.model, monkeypatch
        )  # same pid, exec'd
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) in {0, -signal.SIGTERM}
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
