"""``motcua serve`` restarts a crashed child process with back-off, never while stopping,
and keeps a status file that ``/health`` shows."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.routes.health import _check_supervisor
from motcua.runtime import Service
from motcua.supervisor import RestartPolicy, Supervisor, read_status, status_path, supervisor_alive

CRASH_AT_ONCE = [sys.executable, "-c", "import sys; sys.exit(3)"]
CRASH_SOON = [sys.executable, "-c", "import sys, time; time.sleep(0.2); sys.exit(3)"]
STAY_UP = [sys.executable, "-c", "import time; time.sleep(60)"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Launcher:
    """Starts a service's command the way the stack does (own session, log appended); records when."""

    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self.launched: list[tuple[str, float]] = []
        self.processes: list[subprocess.Popen] = []

    def __call__(self, service: Service) -> None:
        with open(service.log_path or os.devnull, "ab") as log:
            service.process = subprocess.Popen(service.command, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True)
        self.processes.append(service.process)
        self.launched.append((service.name, self.clock()))

    def cleanup(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()


@pytest.fixture
def launcher():
    made: list[Launcher] = []

    def make(clock=time.monotonic) -> Launcher:
        made.append(Launcher(clock))
        return made[-1]

    yield make
    for each in made:
        each.cleanup()


def started(launch: Launcher, tmp_path: Path, name: str, command: list[str]) -> Service:
    service = Service(name, command, "", {}, log_path=tmp_path / f"{name}.log")
    launch(service)
    return service


def wait_dead(service: Service) -> None:
    assert service.process is not None
    service.process.wait(timeout=10)


def test_a_crashing_process_is_restarted_with_exponential_back_off_capped(tmp_path, launcher):
    clock = FakeClock()
    launch = launcher(clock)
    actions = started(launch, tmp_path, "action-server", CRASH_AT_ONCE)
    said: list[str] = []
    supervisor = Supervisor([actions], launch, status_path(tmp_path), echo=said.append, clock=clock,
                            policy=RestartPolicy(first_delay_s=1, max_delay_s=30, storm_crashes=100))
    delays = []
    for _ in range(7):
        wait_dead(actions)
        supervisor.poll()  # notices the crash
        record = supervisor.records["action-server"]
        assert record.state == "waiting" and record.last_exit_code == 3
        due = record.restart_due
        assert due is not None
        delays.append(due - clock.now)
        clock.now = due - 0.01
        supervisor.poll()
        assert len(launch.launched) == 1 + len(delays) - 1  # not yet
        clock.now = due
        supervisor.poll()
        assert len(launch.launched) == 1 + len(delays)  # restarted on time
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    assert supervisor.records["action-server"].restarts == 7
    assert sum("action-server đã dừng bất ngờ (mã 3)" in line for line in said) == 7
    assert sum("Đã khởi động lại action-server" in line for line in said) == 7


def test_a_process_that_stays_up_a_while_starts_the_back_off_anew(tmp_path, launcher):
    clock = FakeClock()
    launch = launcher(clock)
    rasa = started(launch, tmp_path, "rasa", CRASH_AT_ONCE)
    supervisor = Supervisor([rasa], launch, status_path(tmp_path), echo=lambda _: None, clock=clock,
                            policy=RestartPolicy(first_delay_s=1, stable_after_s=60, storm_crashes=100))
    for _ in range(3):  # three quick crashes: the next wait would be 8 s
        wait_dead(rasa)
        supervisor.poll()
        clock.now = supervisor.records["rasa"].restart_due or 0
        supervisor.poll()
    assert supervisor.records["rasa"].consecutive_crashes == 3
    rasa.command = STAY_UP
    wait_dead(rasa)
    supervisor.poll()
    clock.now = supervisor.records["rasa"].restart_due or 0
    supervisor.poll()  # restarted, now it stays up
    clock.now += 61
    supervisor.poll()
    assert supervisor.records["rasa"].consecutive_crashes == 0
    assert rasa.process is not None
    rasa.process.kill()
    wait_dead(rasa)
    supervisor.poll()
    record = supervisor.records["rasa"]
    assert record.restart_due == clock.now + 1  # back to the first delay
    assert record.last_exit_code == -9


def test_real_children_that_crash_are_restarted_with_growing_pauses(tmp_path, launcher):
    launch = launcher()
    portal = started(launch, tmp_path, "fake-portal", CRASH_SOON)
    gateway = started(launch, tmp_path, "gateway", STAY_UP)
    stop = threading.Event()
    supervisor = Supervisor([portal, gateway], launch, status_path(tmp_path), echo=lambda _: None,
                            policy=RestartPolicy(first_delay_s=0.1, max_delay_s=0.4, storm_crashes=100))
    runner = threading.Thread(target=supervisor.run, args=(stop.is_set,), kwargs={"interval_s": 0.02})
    runner.start()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and supervisor.records["fake-portal"].restarts < 4:
        time.sleep(0.05)
    stop.set()
    runner.join(timeout=10)
    starts = [at for name, at in launch.launched if name == "fake-portal"]
    assert len(starts) >= 5, starts
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    # each gap is the 0.2 s the child lives plus the pause: 0.1, 0.2, 0.4, 0.4 (capped)
    for gap, pause in zip(gaps[:4], [0.1, 0.2, 0.4, 0.4], strict=True):
        assert gap >= 0.2 + pause - 0.02, gaps
    assert gaps[2] > gaps[0]
    assert supervisor.records["gateway"].restarts == 0  # the healthy one is left alone
    assert [name for name, _ in launch.launched].count("gateway") == 1


def test_nothing_is_restarted_once_stopping(tmp_path, launcher):
    clock = FakeClock()
    launch = launcher(clock)
    actions = started(launch, tmp_path, "action-server", CRASH_AT_ONCE)
    gateway = started(launch, tmp_path, "gateway", STAY_UP)
    supervisor = Supervisor([actions, gateway], launch, status_path(tmp_path), echo=lambda _: None, clock=clock)
    wait_dead(actions)
    supervisor.poll()
    assert supervisor.records["action-server"].state == "waiting"
    # Ctrl-C / SIGTERM: the serve loop stops the supervisor, then the stack stops the processes
    supervisor.stop()
    assert gateway.process is not None
    gateway.process.terminate()
    wait_dead(gateway)
    clock.now += 3600
    supervisor.poll()
    assert len(launch.launched) == 2  # the two first starts only
    status = read_status(tmp_path)
    assert status is not None and status["stopping"] is True
    assert {s["state"] for s in status["services"].values()} == {"stopped"}
    assert not supervisor_alive(status)


def test_a_stop_requested_while_a_restart_is_due_wins(tmp_path, launcher):
    clock = FakeClock()
    launch = launcher(clock)
    actions = started(launch, tmp_path, "action-server", CRASH_AT_ONCE)
    supervisor = Supervisor([actions], launch, status_path(tmp_path), echo=lambda _: None, clock=clock)
    wait_dead(actions)
    supervisor.poll()
    clock.now += 3600
    supervisor.run(lambda: True)  # the signal arrived first
    supervisor.poll(lambda: True)
    assert len(launch.launched) == 1
    assert supervisor.stopping


def test_a_crash_loop_is_reported_loudly_and_retried_at_the_capped_interval(tmp_path, launcher):
    clock = FakeClock()
    launch = launcher(clock)
    rasa = started(launch, tmp_path, "rasa", CRASH_AT_ONCE)
    said: list[str] = []
    alarms: list[str] = []
    supervisor = Supervisor([rasa], launch, status_path(tmp_path), echo=said.append, warn=alarms.append,
                            clock=clock, policy=RestartPolicy(first_delay_s=1, max_delay_s=30, storm_crashes=3,
                                                              storm_window_s=120))
    delays = []
    for _ in range(4):
        wait_dead(rasa)
        supervisor.poll()
        due = supervisor.records["rasa"].restart_due or 0
        delays.append(due - clock.now)
        clock.now = due
        supervisor.poll()
    assert delays == [1, 2, 30, 30]
    assert len(alarms) == 3  # the crash that made it a loop (plus the alarm), then each crash in it
    assert "rasa đã dừng 3 lần trong 120 giây" in alarms[1]
    assert all(line.startswith("‼") for line in alarms)
    assert read_status(tmp_path)["services"]["rasa"]["crash_loop"] is True  # type: ignore[index]
    check = _check_supervisor(tmp_path)
    assert check["ok"] is False and check["crash_loop"] == ["rasa"]


def test_the_status_file_says_what_happened_to_each_service(tmp_path, launcher):
    clock = FakeClock()
    launch = launcher(clock)
    actions = started(launch, tmp_path, "action-server", CRASH_AT_ONCE)
    gateway = started(launch, tmp_path, "gateway", STAY_UP)
    supervisor = Supervisor([actions, gateway], launch, status_path(tmp_path), echo=lambda _: None, clock=clock)
    path = tmp_path / "run" / "supervisor.json"
    first = json.loads(path.read_text())
    assert first["supervisor_pid"] == os.getpid() and supervisor_alive(first)
    assert first["services"]["gateway"]["pid"] == gateway.process.pid  # type: ignore[union-attr]
    assert first["services"]["action-server"]["restarts"] == 0
    wait_dead(actions)
    supervisor.poll()
    crashed = json.loads(path.read_text())["services"]["action-server"]
    assert crashed["state"] == "waiting" and crashed["pid"] is None and crashed["up_since"] is None
    assert crashed["last_exit_code"] == 3 and crashed["last_exit_at"]
    clock.now += 1
    supervisor.poll()
    again = json.loads(path.read_text())["services"]["action-server"]
    assert again["state"] == "running" and again["restarts"] == 1
    assert again["pid"] == actions.process.pid  # type: ignore[union-attr]
    assert again["last_restart_at"] == again["up_since"]
    assert again["last_restart_at"][:4].isdigit() and "T" in again["last_restart_at"]
    assert list(path.parent.iterdir()) == [path]  # written atomically, no temporary left behind


def test_health_shows_restarts_per_service_from_the_status_file(tmp_path, launcher):
    assert _check_supervisor(tmp_path) == {"ok": True, "supervised": False}  # started without serve
    clock = FakeClock()
    launch = launcher(clock)
    actions = started(launch, tmp_path, "action-server", CRASH_AT_ONCE)
    gateway = started(launch, tmp_path, "gateway", STAY_UP)
    supervisor = Supervisor([actions, gateway], launch, status_path(tmp_path), echo=lambda _: None, clock=clock)
    wait_dead(actions)
    supervisor.poll()
    clock.now += 1
    supervisor.poll()

    from bot.app import create_app
    from motcua.db import upgrade_database
    from motcua.settings import Settings
    from tests.servers import free_port

    upgrade_database(f"sqlite:///{tmp_path / 'motcua.sqlite3'}")
    settings = Settings(data_dir=tmp_path, rasa_url=f"http://127.0.0.1:{free_port()}",
                        action_url=f"http://127.0.0.1:{free_port()}/webhook", rasa_timeout_s=1.0)
    from tests.bot.test_health import staff_bearer

    staff = staff_bearer(settings.sqlalchemy_url)  # the restarts are details: for staff only
    with TestClient(create_app(settings)) as client:  # a gateway started after the crash still knows
        check = client.get("/health", headers=staff).json()["checks"]["supervisor"]
    assert check["ok"] is True and check["supervised"] is True
    assert check["restarts"] == {"action-server": 1, "gateway": 0}
    assert check["services"]["action-server"]["last_exit_code"] == 3
    assert check["services"]["action-server"]["state"] == "running"
    assert "pid" not in check["services"]["gateway"]
    supervisor.stop()
    after = _check_supervisor(tmp_path)
    assert after["supervised"] is False and after["restarts"] == {"action-server": 1, "gateway": 0}


def test_an_unreadable_status_file_does_not_break_health(tmp_path):
    path = status_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{half a file")
    assert _check_supervisor(tmp_path) == {"ok": True, "supervised": False}


def test_rasa_comes_back_with_the_model_it_should_serve_now(tmp_path, monkeypatch):
    from motcua import runtime
    from motcua.settings import Settings

    monkeypatch.setattr(runtime, "rasa_executable", lambda: Path("/venv/bin/rasa"))
    stack = runtime.Stack(Settings(data_dir=tmp_path, demo_portal_port=0), tmp_path / "first.tar.gz",
                          echo=lambda _: None)
    launched: list[list[str]] = []
    monkeypatch.setattr(stack, "launch", lambda service: launched.append(list(service.command)))
    rasa = next(s for s in stack.services if s.name == "rasa")
    # no model registry yet (the database is not even migrated): the model it was started with
    assert stack.current_model() == tmp_path / "first.tar.gz"
    stack.restart(rasa)
    assert launched[-1][launched[-1].index("-m") + 1] == str(tmp_path / "first.tar.gz")
    # a model promoted from the admin page meanwhile: the restarted Rasa serves it
    monkeypatch.setattr(stack, "current_model", lambda: tmp_path / "promoted.tar.gz")
    stack.restart(rasa)
    assert launched[-1][launched[-1].index("-m") + 1] == str(tmp_path / "promoted.tar.gz")
    assert stack.model == tmp_path / "promoted.tar.gz"
    actions = next(s for s in stack.services if s.name == "action-server")
    stack.restart(actions)
    assert launched[-1] == actions.command


@pytest.mark.integration
@pytest.mark.slow
def test_a_killed_action_server_of_the_real_stack_comes_back_and_health_counts_it(tmp_path):
    import signal

    import httpx

    from tests.stack import running_stack, stack_settings

    settings = stack_settings(tmp_path)
    gateway = f"http://127.0.0.1:{settings.gateway_port}"
    with running_stack(settings) as stack:
        stop = threading.Event()
        supervisor = Supervisor(stack.services, stack.restart, status_path(settings.data_dir), echo=lambda _: None)
        runner = threading.Thread(target=supervisor.run, args=(stop.is_set,), kwargs={"interval_s": 0.2})
        runner.start()
        try:
            actions = next(s for s in stack.services if s.name == "action-server")
            killed = actions.process.pid  # type: ignore[union-attr]
            os.killpg(killed, signal.SIGKILL)
            # meanwhile (the restart waits 1 s) the citizen gets the polite answer, in time
            asked = time.monotonic()
            body = httpx.post(f"{gateway}/api/v1/messages", timeout=10,
                              json={"sender": "supervised", "text": "làm giấy khai sinh cần những giấy tờ gì"}).json()
            assert time.monotonic() - asked < 2.0
            assert body["outcome"] in {"busy", "empty"} and body["messages"][0]["text"]
            deadline = time.monotonic() + 120
            health: dict = {}
            from tests.bot.test_health import staff_bearer

            staff = staff_bearer(settings.sqlalchemy_url)  # the restarts are details: for staff only
            while time.monotonic() < deadline:
                health = httpx.get(f"{gateway}/health", headers=staff, timeout=5).json()
                if health["checks"]["action_server"]["ok"] and health["checks"]["supervisor"]["restarts"].get(
                        "action-server") == 1:
                    break
                time.sleep(0.5)
            assert health["checks"]["action_server"]["ok"] is True, health
            check = health["checks"]["supervisor"]
            assert check["supervised"] is True and check["restarts"]["action-server"] == 1
            assert check["services"]["action-server"]["last_exit_code"] == -signal.SIGKILL
            assert actions.process.pid != killed  # type: ignore[union-attr]
            assert all(check["restarts"][name] == 0 for name in check["restarts"] if name != "action-server")
            answered = httpx.post(f"{gateway}/api/v1/messages", timeout=10,
                                  json={"sender": "supervised-2", "text": "làm giấy khai sinh cần những giấy tờ gì"})
            assert answered.json()["outcome"] == ""
        finally:
            stop.set()
            runner.join(timeout=10)
