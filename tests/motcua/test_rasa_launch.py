"""``motcua/rasa_launch.py`` starts Rasa with the action server's answers checked by a schema compiled once:
the same verdicts and the same error as Rasa's own check, run in Rasa's own interpreter."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from motcua import runtime
from motcua.settings import Settings

CHECK = r"""
import json, runpy, sys
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

launch = runpy.run_path(sys.argv[1])  # as a file, the way Rasa is started (not __main__: nothing runs)
answers = json.loads(sys.argv[2])
action = RemoteAction("action_answer", None)

def verdicts():
    said = []
    for answer in answers:
        try:
            said.append(["ok", action._validate_action_result(answer)])
        except ValidationError as error:
            said.append(["refused", error.message])
    return said

rasas = verdicts()
launch["compile_action_response_check"]()
assert RemoteAction._validate_action_result.__module__ != "rasa.core.actions.action"  # replaced
print(json.dumps({"rasa": rasas, "compiled": verdicts()}))
"""

ANSWERS = [
    {"events": [{"event": "slot", "name": "procedure_code", "value": "1.001193"}],
     "responses": [{"text": "Đăng ký khai sinh cần…", "buttons": []}]},
    {"events": [], "responses": []},
    {"events": [{"event": "slot"}], "responses": []},  # a slot event without its name
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [], "responses": ["a bare string"]},
]


def test_the_compiled_check_gives_rasas_verdicts_and_errors():
    python = runtime.rasa_executable().with_name("python")
    process = subprocess.run([str(python), "-c", CHECK, str(runtime.RASA_LAUNCHER), json.dumps(ANSWERS)],
                             capture_output=True, text=True, timeout=300, cwd=Path(__file__).parents[2])
    assert process.returncode == 0, process.stderr[-3000:]
    said = json.loads(process.stdout.strip().splitlines()[-1])
    assert said["compiled"] == said["rasa"]
    assert [verdict for verdict, _ in said["rasa"]] == ["ok", "ok", "refused", "refused", "refused", "refused"]
    assert all("Failed to validate Action server response" in text for verdict, text in said["rasa"]
               if verdict == "refused")


def test_the_launcher_runs_rasas_command_line_with_its_own_environment_only():
    """Run as a file, ``motcua/`` is not on Rasa's path (``motcua/queue`` would hide the standard library's)."""
    python = runtime.rasa_executable().with_name("python")
    process = subprocess.run([str(python), str(runtime.RASA_LAUNCHER), "--version"], capture_output=True, text=True,
                             timeout=300, cwd=runtime.RASA_LAUNCHER.parent)
    assert process.returncode == 0, process.stderr[-3000:]
    assert "Rasa Version" in process.stdout and "3.6." in process.stdout


def test_rasa_is_started_through_the_launcher_in_its_own_interpreter(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "rasa_executable", lambda: Path("/venv/bin/rasa"))
    stack = runtime.Stack(Settings(data_dir=tmp_path, demo_portal_port=0), tmp_path / "model.tar.gz",
                          echo=lambda _: None)
    command = next(s for s in stack.services if s.name == "rasa").command
    assert command[:3] == ["/venv/bin/python", str(runtime.RASA_LAUNCHER), "run"]
    assert runtime.RASA_LAUNCHER.is_file()
    source = runtime.RASA_LAUNCHER.read_text(encoding="utf-8")
    assert "from motcua" not in source and "import motcua" not in source  # Rasa's interpreter has no app packages
