"""Helpers of the deploy/ tests: reading the compose file, the systemd units and their environment
files, and asking ``motcua serve-one --print`` which command line a child would run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from motcua.settings import ROOT

DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
SYSTEMD = DEPLOY / "systemd"
CHILD_PORTS = {
    "rasa": "MOTCUA_RASA_PORT",
    "action-server": "MOTCUA_ACTION_PORT",
    "gateway": "MOTCUA_GATEWAY_PORT",
}
"""The setting that holds each child's port (the systemd instance name sets it)."""

_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def interpolate(text: str, values: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}``, ``${NAME:?message}`` with ``values`` as the .env file."""

    def one(match: re.Match) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        value = values.get(name)
        if op in {":-", "-"} and not value:
            return arg
        if op in {":?", "?"} and not value:
            raise KeyError(f"{name}: {arg}")
        return value or ""

    return _INTERPOLATION.sub(one, text)


def interpolations(text: str) -> list[str]:
    return [match["name"] for match in _INTERPOLATION.finditer(text)]


def app_services(compose: dict) -> dict[str, dict]:
    """The services that run the assistant's own image (prepare, rasa, actions, gateway)."""
    return {
        name: service
        for name, service in compose["services"].items()
        if str(service.get("image", "")).startswith("motcua:")
    }


def service_environment(service: dict, dotenv: dict[str, str]) -> dict[str, str]:
    """A compose service's ``environment`` with the .env values put in, as the container sees it."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: interpolate(str(value), dotenv) for key, value in environment.items()}


def serve_one_command(service: dict) -> str | None:
    """The child a compose service or a unit runs (``motcua serve-one <child>``), else None."""
    command = service.get("command") or []
    if len(command) >= 3 and Path(command[0]).name == "motcua" and command[1] == "serve-one":
        return command[2]
    return None


@dataclass
class Unit:
    path: Path
    sections: dict[str, list[tuple[str, str]]]

    def values(self, section: str, key: str) -> list[str]:
        return [value for name, value in self.sections.get(section, []) if name == key]

    def value(self, section: str, key: str) -> str | None:
        found = self.values(section, key)
        return found[-1] if found else None

    def environment(self, instance: str) -> dict[str, str]:
        """``Environment=`` assignments (several per line), with ``%i`` as the instance name."""
        env: dict[str, str] = {}
        for line in self.values("Service", "Environment"):
            for assignment in line.split():
                key, _, value = assignment.partition("=")
                env[key] = value.replace("%i", instance)
        return env


def parse_unit(path: Path) -> Unit:
    """An INI-like systemd unit: ``[Section]``, ``Key=value`` lines (repeatable), ``#``/``;`` comments."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        if current is None or "=" not in line or line.endswith("\\"):
            raise ValueError(f"{path.name}:{number}: not a systemd unit line: {raw!r}")
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return Unit(path, sections)


def parse_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines (as systemd's EnvironmentFile= and compose's env_file read them); a value
    wholly in single or double quotes loses them."""
    env: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key.strip()] = value
    return env


@dataclass
class Installation:
    """A stand-in for a server's data directory: a migrated SQLite database, a Rasa environment
    (only its ``rasa`` file: nothing is started) and a model file named by today's fingerprint."""

    data_dir: Path
    rasa_venv: Path
    model: Path
    database_url: str

    def environment(self, settings_env: dict[str, str]) -> dict[str, str]:
        """The MOTCUA_ part of ``settings_env``, with this installation's places and database."""
        env = {key: value for key, value in settings_env.items() if key.startswith("MOTCUA_")}
        env.update(
            {
                "MOTCUA_DATA_DIR": str(self.data_dir),
                "MOTCUA_DATABASE_URL": self.database_url,
                "MOTCUA_MODELS_DIR": str(self.model.parent),
                "MOTCUA_RASA_VENV": str(self.rasa_venv),
            }
        )
        return env


def make_installation(tmp_path: Path, database_url: str = "") -> Installation:
    from motcua.db import upgrade_database
    from motcua.runtime import MODEL_PREFIX, training_fingerprint

    data_dir = tmp_path / "data"
    rasa = tmp_path / "rasa-venv" / "bin" / "rasa"
    rasa.parent.mkdir(parents=True)
    rasa.write_text("#!/bin/sh\nexit 3\n")
    rasa.chmod(0o755)
    model = tmp_path / "models" / f"{MODEL_PREFIX}{training_fingerprint()}.tar.gz"
    model.parent.mkdir()
    model.write_bytes(b"")
    url = database_url or f"sqlite:///{tmp_path / 'motcua.sqlite3'}"
    upgrade_database(url)
    return Installation(data_dir, rasa.parent.parent, model, url)


def printed_command(name: str, env: dict[str, str]) -> list[str]:
    """What ``motcua serve-one <name> --print`` says it would run, with exactly ``env``'s MOTCUA_ settings."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("MOTCUA_")}
    result = subprocess.run(
        [sys.executable, "-m", "motcua.cli", "serve-one", name, "--print"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def supervisors_command(name: str, env: dict[str, str], model: Path, monkeypatch) -> list[str]:
    """The command line ``motcua serve``'s supervisor starts for child ``name`` with the settings of ``env``:
    the :class:`motcua.runtime.Stack` serve builds, not a copy of its strings."""
    from motcua import runtime
    from motcua.cli import shown_command
    from motcua.settings import Settings

    with monkeypatch.context() as patch:
        for key in [key for key in os.environ if key.startswith("MOTCUA_")]:
            patch.delenv(key)
        for key, value in env.items():
            patch.setenv(key, value)
        patch.setattr(runtime, "RASA_VENV", Path(env["MOTCUA_RASA_VENV"]))
        stack = runtime.Stack(Settings(), model, echo=lambda _: None)
        service = next((s for s in stack.services if s.name == name), None)
    assert service is not None, f"motcua serve starts no {name} with these settings"
    return shown_command(service.command)


def known_environment_variables() -> set[str]:
    """Every MOTCUA_ variable the code reads: the settings, and the few read straight from the
    environment (found in the source, so a new one is known without editing this test)."""
    from motcua.settings import Settings

    known = {f"MOTCUA_{name.upper()}" for name in Settings.model_fields}
    pattern = re.compile(r"""environ(?:\.get)?[(\[]\s*["'](MOTCUA_[A-Z0-9_]+)["']""")
    for package in ("actions", "bot", "channels", "devices", "knowledge_base", "motcua", "retrieval"):
        for path in (ROOT / package).rglob("*.py"):
            known.update(pattern.findall(path.read_text(encoding="utf-8")))
    return known
