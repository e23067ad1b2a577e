"""A crash loop ends when the service then stays up: found by bench/bench_chaos.py, where /health
kept saying «crash loop» about a Rasa that had served for minutes."""

from __future__ import annotations

from bot.routes.health import _check_supervisor
from motcua.supervisor import RestartPolicy, Supervisor, read_status, status_path
from tests.motcua.test_supervisor import (
    CRASH_AT_ONCE,
    STAY_UP,
    FakeClock,
    launcher,  # noqa: F401  (the fixture)
    started,
    wait_dead,
)


def test_a_crash_loop_is_over_once_the_service_stays_up(tmp_path, launcher):  # noqa: F811
    clock = FakeClock()
    launch = launcher(clock)
    rasa = started(launch, tmp_path, "rasa", CRASH_AT_ONCE)
    said: list[str] = []
    supervisor = Supervisor([rasa], launch, status_path(tmp_path), echo=said.append, warn=said.append, clock=clock,
                            policy=RestartPolicy(first_delay_s=1, max_delay_s=30, storm_crashes=3, stable_after_s=60))
    for _ in range(3):
        wait_dead(rasa)
        supervisor.poll()
        clock.now = supervisor.records["rasa"].restart_due or 0
        if _ == 2:
            rasa.command = STAY_UP  # the third restart is the one that holds
        supervisor.poll()
    assert supervisor.records["rasa"].crash_loop is True
    assert _check_supervisor(tmp_path)["ok"] is False
    clock.now += 30
    supervisor.poll()
    assert supervisor.records["rasa"].crash_loop is True  # not yet: up for 30 s only
    clock.now += 31
    supervisor.poll()
    record = supervisor.records["rasa"]
    assert record.crash_loop is False and record.consecutive_crashes == 0 and not record.recent_crashes
    assert read_status(tmp_path)["services"]["rasa"]["crash_loop"] is False  # type: ignore[index]
    assert _check_supervisor(tmp_path)["ok"] is True
    assert any("rasa đã chạy ổn định trở lại" in line for line in said)
    assert rasa.process is not None
    rasa.process.kill()
    wait_dead(rasa)
    supervisor.poll()
    assert supervisor.records["rasa"].restart_due == clock.now + 1  # a fresh back-off, not the loop's 30 s
