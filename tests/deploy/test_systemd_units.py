"""deploy/systemd: template units for N instances of each child of ``motcua serve``, each starting the
command line serve's supervisor starts for that child, on the port its instance name gives."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from motcua.settings import ROOT
from tests.deploy.deploy_files import (
    CHILD_PORTS,
    SYSTEMD,
    Installation,
    known_environment_variables,
    parse_env_file,
    parse_unit,
    printed_command,
    supervisors_command,
)

TEMPLATES = {
    "rasa": "motcua-rasa@.service",
    "action-server": "motcua-actions@.service",
    "gateway": "motcua-gateway@.service",
}
INSTALLED = "/opt/motcua"
"""Where the units expect the checkout (with its .venvs, as `make setup` makes them)."""


def units() -> list[Path]:
    return sorted(SYSTEMD.glob("*.service"))


def exec_start(unit) -> list[str]:
    return unit.value("Service", "ExecStart").split()


def test_units_parse_and_say_what_runs_as_whom_and_when_it_restarts():
    assert {path.name for path in units()} == {"motcua-prepare.service", *TEMPLATES.values()}
    for path in units():
        unit = parse_unit(path)
        assert unit.value("Unit", "Description"), path.name
        assert exec_start(unit)[0] == f"{INSTALLED}/.venvs/app/bin/motcua", path.name
        assert (
            unit.value("Service", "User") == "motcua"
            and unit.value("Service", "WorkingDirectory") == INSTALLED
        )
        assert unit.value("Service", "EnvironmentFile") == "/etc/motcua/motcua.env"
        assert unit.value("Install", "WantedBy") == "motcua.target"
        assert (
            unit.value("Service", "ProtectSystem") == "strict"
            and unit.value("Service", "StateDirectory") == "motcua"
        )
        if unit.value("Service", "Type") == "oneshot":
            assert exec_start(unit)[1:] == ["prepare"]
        else:
            assert unit.value("Service", "Restart") == "on-failure", path.name
            assert "motcua-prepare.service" in unit.value("Unit", "Requires").split()
            assert "motcua-prepare.service" in unit.value("Unit", "After").split()
    assert parse_unit(SYSTEMD / "motcua.target").value("Install", "WantedBy") == "multi-user.target"


def test_every_child_of_serve_has_a_template_unit_on_its_instance_port():
    from motcua.runtime import CHILDREN

    # fake-portal is serve's demo stand-in for the national portal, never run on a server
    assert set(TEMPLATES) == set(CHILDREN) - {"fake-portal"}
    for child, name in TEMPLATES.items():
        unit = parse_unit(SYSTEMD / name)
        assert exec_start(unit)[1:] == ["serve-one", child]
        assert unit.environment("5006")[CHILD_PORTS[child]] == "5006"


def test_the_environment_file_sets_no_instance_port_and_only_known_settings():
    env = parse_env_file(SYSTEMD / "motcua.env.example")
    # systemd lets EnvironmentFile= win over Environment=: a port here would put every instance on one port
    assert not set(env) & set(CHILD_PORTS.values())
    assert env["MOTCUA_SECRET_KEY"] == "" and env["MOTCUA_DEMO_PORTAL_PORT"] == "0"
    used = set(env)
    for path in units():
        used |= set(parse_unit(path).environment("5005"))
    known = known_environment_variables()
    assert sorted(key for key in used if key.startswith("MOTCUA_") and key not in known) == []


@pytest.mark.parametrize("child", sorted(TEMPLATES))
def test_each_unit_starts_the_supervisors_command_line(child, installation: Installation, monkeypatch):
    unit = parse_unit(SYSTEMD / TEMPLATES[child])
    settings_env = {
        **parse_env_file(SYSTEMD / "motcua.env.example"),
        **unit.environment("5007"),
        "MOTCUA_SECRET_KEY": "s" * 48,
    }
    env = installation.environment(settings_env)
    printed = printed_command(child, env)
    assert printed == supervisors_command(child, env, installation.model, monkeypatch)
    port_flag = "-p" if child == "rasa" else "--port"
    assert printed[printed.index(port_flag) + 1] == "5007"  # the instance name is the port


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze absent: not verified")
def test_systemd_analyze_verifies_the_units(tmp_path):
    """The units as installed, with the checkout and the example environment file in their places."""
    for path in [*units(), SYSTEMD / "motcua.target"]:
        text = path.read_text(encoding="utf-8").replace(INSTALLED, str(ROOT))
        text = text.replace("/etc/motcua/motcua.env", str(SYSTEMD / "motcua.env.example"))
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    names = [
        "motcua-prepare.service",
        "motcua.target",
        *(name.replace("@.", "@5005.") for name in TEMPLATES.values()),
    ]
    for name in names:
        if "@5005." in name:
            (tmp_path / name).write_text(
                (tmp_path / name.replace("@5005.", "@.")).read_text(encoding="utf-8")
            )
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / name) for name in names)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    ours = [line for line in output.splitlines() if str(tmp_path) in line or "motcua" in line]
    assert result.returncode == 0, output
    assert not [
        line for line in ours if re.search(r"Unknown|Failed|not executable|Invalid|ignoring", line)
    ], output
