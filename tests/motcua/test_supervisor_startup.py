"""``motcua serve`` survives a child that crashes while starting: it is started again with the same
back-off as a crash, /health shows it, and after a cap serve gives up naming the child and the last
lines it wrote."""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bot.routes.health import _check_supervisor
from motcua.runtime import Service
from motcua.supervisor import RestartPolicy, StartupFailed, Supervisor, read_status, status_path
from tests.motcua.test_supervisor import Launcher as PlainLauncher

FLAKY_CHILD = textwrap.dedent("""
    import pathlib, sys, time
    state = pathlib.Path(sys.argv[1])
    starts = int(state.read_text()) + 1 if state.exists() else 1
    state.write_text(str(starts))
    if starts <= int(sys.argv[2]):
        print(f"khởi động lần {starts}", flush=True)
        print(f"OSError: [Errno 98] Address already in use (lần {starts})", file=sys.stderr, flush=True)
        sys.exit(2)
    pathlib.Path(sys.argv[1] + ".ready").write_text("ok")
    time.sleep(60)
""")


def flaky(tmp_path: Path, name: str, fail_first: int) -> Service:
    """A child that fails its first ``fail_first`` starts (port busy), then comes up and is ready."""
    script = tmp_path / "flaky_child.py"
    script.write_text(FLAKY_CHILD, encoding="utf-8")
    state = tmp_path / f"{name}.starts"
    return Service(name, [sys.executable, str(script), str(state), str(fail_first)], "", {},
                   log_path=tmp_path / f"{name}.log")


def starts(tmp_path: Path, name: str) -> int:
    path = tmp_path / f"{name}.starts"
    return int(path.read_text()) if path.exists() else 0


def is_ready(service: Service) -> bool:
    state = Path(service.command[2])
    return Path(f"{state}.ready").exists() and service.process is not None and service.process.poll() is None


class Launcher(PlainLauncher):
    """The stack's launcher (:class:`tests.motcua.test_supervisor.Launcher`) that can also fail to launch
    its first ``fail_launches`` commands; ``at`` records every try, failed or not."""

    def __init__(self, fail_launches: int = 0) -> None:
        super().__init__()
        self.fail_launches = fail_launches
        self.at: list[tuple[str, float]] = []

    def __call__(self, service: Service) -> None:
        self.at.append((service.name, time.monotonic()))
        if self.fail_launches:
            self.fail_launches -= 1
            raise FileNotFoundError(f"không thấy {service.command[0]}")
        super().__call__(service)


@pytest.fixture
def launcher():
    made: list[Launcher] = []

    def make(**kw) -> Launcher:
        made.append(Launcher(**kw))
        return made[-1]

    yield make
    for each in made:
        each.cleanup()


FAST = RestartPolicy(first_delay_s=0.1, max_delay_s=0.4, storm_crashes=100, startup_attempts=5,
                     startup_timeout_s=30)


def test_a_child_that_fails_its_first_starts_is_started_again_with_back_off_until_ready(tmp_path, launcher):
    launch = launcher()
    rasa, gateway = flaky(tmp_path, "rasa", 3), flaky(tmp_path, "gateway", 0)
    said: list[str] = []
    seen: list[dict] = []  # rasa as the status file (/health) shows it, at each look and each line said

    def look() -> None:
        status = read_status(tmp_path)
        assert status is not None
        seen.append(status["services"]["rasa"])

    def say(line: str) -> None:
        said.append(line)
        look()

    def watch(service: Service) -> bool:
        look()
        return is_ready(service)

    supervisor = Supervisor([rasa, gateway], launch, status_path(tmp_path), echo=say, policy=FAST)

    assert supervisor.start_up(watch, interval_s=0.02) is True
    assert starts(tmp_path, "rasa") == 4 and starts(tmp_path, "gateway") == 1
    at = [moment for name, moment in launch.at if name == "rasa"]
    gaps = [later - earlier for earlier, later in zip(at, at[1:], strict=False)]
    for gap, pause in zip(gaps, [0.1, 0.2, 0.4], strict=True):  # the crash back-off: 0.1, 0.2, 0.4 s
        assert gap >= pause, gaps
    failures = [line for line in said if "rasa dừng khi đang khởi động" in line]
    assert len(failures) == 3 and "(mã 2), lần 1/5; thử khởi động lại sau 0.1 giây" in failures[0]
    assert "lần 3/5; thử khởi động lại sau 0.4 giây" in failures[2] and str(rasa.log_path) in failures[2]
    assert any("Khởi động lại rasa (lần thử 4/5)" in line for line in said)
    assert "✓ rasa đã sẵn sàng sau 4 lần thử" in said and "✓ gateway đã sẵn sàng" in said
    assert {"starting", "waiting"} <= {record["state"] for record in seen}  # what /health saw meanwhile
    record = read_status(tmp_path)["services"]["rasa"]  # type: ignore[index]
    assert (record["state"], record["startup_failures"], record["restarts"], record["last_exit_code"]) == \
        ("running", 3, 3, 2)
    assert record["pid"] == rasa.process.pid  # type: ignore[union-attr]
    check = _check_supervisor(tmp_path)
    assert check["ok"] is True and check["services"]["rasa"]["startup_failures"] == 3  # type: ignore[index]
    assert check["services"]["gateway"]["startup_failures"] == 0  # type: ignore[index]


def test_health_shows_a_child_still_failing_to_start(tmp_path, launcher):
    launch = launcher()
    rasa = flaky(tmp_path, "rasa", 99)
    supervisor = Supervisor([rasa], launch, status_path(tmp_path), echo=lambda _: None,
                            policy=RestartPolicy(first_delay_s=30, startup_attempts=5))
    deadline = time.monotonic() + 10
    while supervisor.records["rasa"].startup_failures < 1 and time.monotonic() < deadline:
        supervisor.start_up(is_ready, lambda: supervisor.records["rasa"].startup_failures >= 1, interval_s=0.02)
    check = _check_supervisor(tmp_path)
    shown = check["services"]["rasa"]  # type: ignore[index]
    assert (shown["state"], shown["startup_failures"], shown["last_exit_code"]) == ("waiting", 1, 2)
    assert check["supervised"] is True


def test_serve_gives_up_after_the_cap_naming_the_child_and_its_last_lines(tmp_path, launcher):
    launch = launcher()
    actions = flaky(tmp_path, "action-server", 99)
    assert actions.log_path is not None
    actions.log_path.write_text("dòng của một lần chạy hôm qua\n", encoding="utf-8")
    said: list[str] = []
    alarms: list[str] = []
    supervisor = Supervisor([actions], launch, status_path(tmp_path), echo=said.append, warn=alarms.append,
                            policy=RestartPolicy(first_delay_s=0.05, max_delay_s=0.1, startup_attempts=3))
    with pytest.raises(StartupFailed) as failed:
        supervisor.start_up(is_ready, interval_s=0.02)
    assert starts(tmp_path, "action-server") == 3
    message = str(failed.value)
    assert failed.value.service == "action-server"
    assert message.startswith("action-server không khởi động được sau 3 lần thử (mã 2)")
    assert "«motcua serve» dừng lại" in message and str(actions.log_path) in message
    assert failed.value.log_lines == ["khởi động lần 3", "OSError: [Errno 98] Address already in use (lần 3)"]
    assert "hôm qua" not in message and "(lần 2)" not in message  # only what the last start wrote
    assert alarms == [f"‼ {message}"]
    assert sum("dừng khi đang khởi động" in line for line in said) == 2  # the third one is the give-up
    supervisor.stop()  # what serve does next, before stopping the processes
    status = json.loads(status_path(tmp_path).read_text())
    assert status["stopping"] is True and status["services"]["action-server"]["state"] == "failed"
    assert status["services"]["action-server"]["startup_failures"] == 3


def test_a_start_that_never_gets_ready_in_time_gives_up_at_once(tmp_path, launcher):
    launch = launcher()
    stuck = flaky(tmp_path, "rasa", 0)
    clock = [1000.0]
    supervisor = Supervisor([stuck], launch, status_path(tmp_path), echo=lambda _: None, clock=lambda: clock[0],
                            policy=RestartPolicy(startup_timeout_s=240))

    def never(_service: Service) -> bool:
        clock[0] += 100
        return False

    with pytest.raises(StartupFailed, match=r"rasa không khởi động được sau 1 lần thử \(chưa sẵn sàng sau 240 giây\)"):
        supervisor.start_up(never, interval_s=0)
    assert len(launch.at) == 1  # hung, not crashed: starting it again would not help
    assert read_status(tmp_path)["services"]["rasa"]["state"] == "failed"  # type: ignore[index]


def test_a_command_that_cannot_even_be_launched_counts_as_a_failed_start(tmp_path, launcher):
    launch = launcher(fail_launches=2)
    gateway = flaky(tmp_path, "gateway", 0)
    said: list[str] = []
    supervisor = Supervisor([gateway], launch, status_path(tmp_path), echo=said.append,
                            policy=RestartPolicy(first_delay_s=0.05, max_delay_s=0.1, startup_attempts=3))
    assert supervisor.start_up(is_ready, interval_s=0.02) is True
    assert len(launch.at) == 3 and starts(tmp_path, "gateway") == 1
    assert sum("không chạy được lệnh: không thấy" in line for line in said) == 2
    assert supervisor.records["gateway"].startup_failures == 2 and supervisor.records["gateway"].last_exit_code is None


def test_a_stop_asked_during_start_up_ends_it_without_restarting(tmp_path, launcher):
    launch = launcher()
    rasa = flaky(tmp_path, "rasa", 99)
    supervisor = Supervisor([rasa], launch, status_path(tmp_path), echo=lambda _: None,
                            policy=RestartPolicy(first_delay_s=0.01, startup_attempts=50))
    looks = iter(range(1000))
    assert supervisor.start_up(is_ready, lambda: next(looks) >= 3, interval_s=0.01) is False
    assert starts(tmp_path, "rasa") <= 2


def test_serve_gives_up_with_the_childs_last_lines_and_exit_code_1(tmp_path, monkeypatch, launcher):
    """The command itself: a child that keeps failing to start ends ``motcua serve`` with its story."""
    from typer.testing import CliRunner

    from motcua import cli, runtime, training
    from motcua.settings import Settings

    launch = launcher()
    child = flaky(tmp_path, "action-server", 99)

    class FailingStack:
        def __init__(self, settings, model, echo=print) -> None:
            self.services = [child]
            self.stopped = False

        def restart(self, service: Service) -> None:
            launch(service)

        def is_ready(self, service: Service) -> bool:
            return is_ready(service)

        def stop(self) -> None:
            for service in self.services:
                if service.process is not None and service.process.poll() is None:
                    service.process.kill()
                    service.process.wait()

    settings = Settings(data_dir=tmp_path)
    from rich.console import Console

    monkeypatch.setattr(cli, "console", Console(width=400, soft_wrap=True))  # no line wrapped for the checks
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr(cli, "_prepare_database", lambda: None)
    monkeypatch.setattr(cli, "_index_in_child", lambda settings: None)
    monkeypatch.setattr(training, "active_model_path", lambda s: None)
    monkeypatch.setattr(runtime, "training_fingerprint", lambda **k: "x")
    monkeypatch.setattr(runtime, "ensure_model", lambda s, echo=print: tmp_path / "model.tar.gz")
    monkeypatch.setattr(runtime, "Stack", FailingStack)
    original = Supervisor.__init__

    def quick(self, *args, **kwargs):
        kwargs["policy"] = RestartPolicy(first_delay_s=0.05, max_delay_s=0.1, startup_attempts=2)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Supervisor, "__init__", quick)
    result = CliRunner().invoke(cli.app, ["serve"])
    assert result.exit_code == 1, result.output
    assert "action-server dừng khi đang khởi động (mã 2), lần 1/2" in result.output
    assert "action-server không khởi động được sau 2 lần thử" in result.output
    assert "Address already in use (lần 2)" in result.output
    assert "Đã sẵn sàng" not in result.output
    assert read_status(tmp_path)["services"]["action-server"]["state"] == "failed"  # type: ignore[index]
