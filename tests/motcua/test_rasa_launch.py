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


STORE = r"""
import asyncio, json, runpy, sqlite3, sys
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

launch = runpy.run_path(sys.argv[1])
launch["hide_secrets_in_tracker_store"]()
store = SQLTrackerStore(dialect="sqlite", db=sys.argv[2])
asked = "tra cứu hồ sơ H51-260310-0001 mã tra cứu 123 456"
user = UserUttered(asked, {"name": "check_dossier_status", "confidence": 0.9},
                   [{"entity": "number", "value": "mã tra cứu 123 456", "start": 30, "end": 48}],
                   parse_data={"text": asked, "intent": {"name": "check_dossier_status", "confidence": 0.9},
                               "entities": []})
paid = "Thanh toán tại: https://motcua.example/api/v1/dossiers/7/payment?token=abc123secret&lang=vi"
bot = BotUttered(paid, {"custom": {"url": "https://motcua.example/queue/ticket/tk-9f8e7d",
                                   "queue_ticket": {"token": "tk-9f8e7d", "label": "A001"}}})
tracker = DialogueStateTracker.from_events("kiosk:s9", [ActionExecuted("action_listen"), user, bot])
asyncio.run(store.save(tracker))
rows = [row[0] for row in sqlite3.connect(sys.argv[2]).execute("select data from events order by id")]
again = asyncio.run(store.retrieve("kiosk:s9"))
print(json.dumps({"rows": rows, "texts": [e.text for e in again.events if hasattr(e, "text")]}))
"""


def test_rasas_tracker_store_writes_no_lookup_pin_and_no_link_token(tmp_path):
    """The turn reads «mã tra cứu 123 456» whole; the events table keeps it hidden, and the links' tokens."""
    python = runtime.rasa_executable().with_name("python")
    process = subprocess.run([str(python), "-c", STORE, str(runtime.RASA_LAUNCHER), str(tmp_path / "rasa.db")],
                             capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert process.returncode == 0, process.stderr[-3000:]
    stored = json.loads(process.stdout.strip().splitlines()[-1])
    everything = "\n".join(stored["rows"])
    assert len(stored["rows"]) == 3 and '"label": "A001"' in stored["rows"][2]  # the rest of a payload is kept
    for secret in ("123 456", "abc123secret", "tk-9f8e7d"):
        assert secret not in everything, secret
    assert stored["texts"] == ["tra cứu hồ sơ H51-260310-0001 mã tra cứu ******",
                               "Thanh toán tại: https://motcua.example/api/v1/dossiers/7/payment?token=[redacted]&lang=vi"]


def test_the_tracker_store_hides_what_the_apps_logs_hide():
    """One pattern each, written twice (Rasa's interpreter imports none of the app): the same result."""
    import runpy

    from actions.dossiers import lookup_pin
    from motcua.privacy import LOOKUP_PIN, PIN_MASK, redact_secrets, redact_tokens

    hide = runpy.run_path(str(runtime.RASA_LAUNCHER))["hide_secrets"]
    payload = {"queue_ticket": {"token": "tk-1", "label": "A001", "status_url": "/queue/ticket/tk-1"},
               "access_token": "zz", "tokens": 3}
    assert hide(payload) == redact_secrets(payload) == {
        "queue_ticket": {"token": "[redacted]", "label": "A001", "status_url": "/queue/ticket/[redacted]"},
        "access_token": "[redacted]", "tokens": 3}
    assert lookup_pin("tra cứu H51-260310-0001 mã tra cứu 123 456") == "123456"  # what the chat reads, hidden here
    for text in ("ma tra cuu: 654321 nhé", "PIN 112 233", "mã tra cứu 1234567 (bảy số: không phải mã)",
                 "xem ở /queue/ticket/abc?x=1 hoặc /api/v1/queue/tickets/abc/qr.svg", "link ?access_token=zz&a=1",
                 "không có gì bí mật 123456"):
        app = redact_tokens(LOOKUP_PIN.sub(lambda m: m.group(1) + PIN_MASK, text))
        assert hide(text) == app, text
