"""``motcua serve`` keeps the assistant up: a child process that dies is started again.

Each crash waits a little longer before the restart (1 s, 2 s, 4 s … at most 30 s); a
process that then stays up for a minute is healthy again and its next crash waits 1 s.
A process that crashes again and again (5 times in 2 minutes) is reported loudly and
retried every 30 s. Nothing is restarted once the operator stops the assistant.

Start-up follows the same back-off (:meth:`Supervisor.start_up`): a child that dies before it
is ready (a port still held, a database not up yet) is started again after 1 s, 2 s, 4 s …;
after ``RestartPolicy.startup_attempts`` failed starts in a row — or when it never gets ready in
time — ``serve`` gives up with :class:`StartupFailed`, naming the child, how it ended and the last
lines it wrote to its log.

What happened is written to ``<data_dir>/run/supervisor.json`` (pid, restarts, last exit
code, last restart, up since, per service), which the gateway's ``/health`` shows; the file
outlives a restart of the gateway itself. Console messages are for the operator and stay
here, in Vietnamese.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

STATUS_FILE = Path("run") / "supervisor.json"
"""Relative to the data directory."""


class Supervised(Protocol):
    """What the supervisor needs of a service (:class:`motcua.runtime.Service` is one)."""

    name: str
    process: subprocess.Popen | None
    log_path: Path | None


Launch = Callable[[Any], None]
"""Starts the service's process again and sets its ``process``."""
Ready = Callable[[Any], bool]
"""One quick look: does the (started) service answer yet?"""


@dataclass(frozen=True)
class RestartPolicy:
    first_delay_s: float = 1.0
    max_delay_s: float = 30.0
    stable_after_s: float = 60.0
    """Up this long, a process counts as healthy again: the next crash waits ``first_delay_s``."""
    storm_crashes: int = 5
    storm_window_s: float = 120.0
    """This many crashes within this window is a crash loop: reported loudly, retried every ``max_delay_s``."""
    startup_attempts: int = 5
    """A child that fails this many starts in a row, before it was ever ready, makes ``serve`` give up."""
    startup_timeout_s: float = 240.0
    """Each start of a child gets this long to become ready."""
    log_lines: int = 12
    """How many of a child's last log lines the give-up message shows."""

    def __post_init__(self) -> None:
        if self.startup_attempts < 1:
            raise ValueError(f"startup_attempts must be at least 1, got {self.startup_attempts}")
        if self.startup_timeout_s <= 0:
            raise ValueError(f"startup_timeout_s must be positive, got {self.startup_timeout_s}")

    def delay(self, consecutive_crashes: int, storm: bool) -> float:
        if storm:
            return self.max_delay_s
        return min(self.max_delay_s, self.first_delay_s * 2 ** max(consecutive_crashes - 1, 0))


def status_path(data_dir: Path) -> Path:
    return data_dir / STATUS_FILE


def now_text(wall: float | None = None) -> str:
    """Local time with its offset, to the second."""
    moment = datetime.fromtimestamp(wall if wall is not None else time.time()).astimezone()
    return moment.isoformat(timespec="seconds")


def describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"mã {code}, tín hiệu {signal.Signals(-code).name}"
        except ValueError:
            pass
    return f"mã {code}"


@dataclass
class ServiceRecord:
    """One service's history in this run of ``motcua serve``."""

    restarts: int = 0
    last_exit_code: int | None = None
    last_exit_at: str | None = None
    last_restart_at: str | None = None
    up_since: str | None = None
    state: str = "running"  # "starting", "running", "waiting" (crashed, restart pending), "failed", "stopped"
    crash_loop: bool = False
    startup_failures: int = 0  # starts that ended before the service was ready, in a row
    ready_once: bool = True  # False from start_up until the service first answers
    log_offset: int = 0  # where its log stood when it was last started (the give-up message reads from there)
    consecutive_crashes: int = 0
    started_at: float = 0.0  # monotonic
    restart_due: float | None = None  # monotonic
    recent_crashes: deque[float] = field(default_factory=deque)  # monotonic

    def public(self, pid: int | None) -> dict[str, Any]:
        return {"pid": pid, "state": self.state, "restarts": self.restarts, "last_exit_code": self.last_exit_code,
                "last_exit_at": self.last_exit_at, "last_restart_at": self.last_restart_at,
                "up_since": self.up_since, "crash_loop": self.crash_loop,
                "startup_failures": self.startup_failures}


class Supervisor:
    """Watches the started services; restarts a dead one with back-off until :meth:`stop`.

    Single-threaded: call :meth:`poll` (or :meth:`run`) from the loop of ``motcua serve``.
    ``clock`` and ``wall`` are injectable for tests.
    """

    def __init__(self, services: Sequence[Supervised], launch: Launch, status_file: Path, *,
                 echo: Callable[[str], None] = print, warn: Callable[[str], None] | None = None,
                 policy: RestartPolicy = RestartPolicy(), clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.services = list(services)
        self.launch = launch
        self.status_file = status_file
        self.echo = echo
        self.warn = warn or echo
        self.policy = policy
        self.clock = clock
        self.wall = wall
        self.stopping = False
        self._ready: Ready | None = None  # set by start_up
        now = clock()
        self.records = {s.name: ServiceRecord(up_since=now_text(wall()), started_at=now) for s in self.services}
        self.write_status()

    def stop(self) -> None:
        """From now on nothing is restarted (Ctrl-C, SIGTERM); the caller stops the processes."""
        self.stopping = True
        for service in self.services:
            record = self.records[service.name]
            if record.state != "failed":  # the one that made serve give up stays visible as such
                record.state = "stopped"
            record.restart_due = None
        self.write_status()

    def start_up(self, ready: Ready, should_stop: Callable[[], bool] = lambda: False, *,
                 interval_s: float = 0.5, sleep: Callable[[float], None] = time.sleep) -> bool:
        """Start every service (those not started yet) and wait until each answers ``ready(service)``.

        A service that dies before it is ready is started again with the same back-off as a crash;
        one that already answered and dies meanwhile is simply restarted. Returns True when all are
        ready, False when ``should_stop()`` came first; raises :class:`StartupFailed` (status file
        written, state "failed") after ``policy.startup_attempts`` failed starts of one service, or
        when a start is not ready within ``policy.startup_timeout_s``. The caller stops the processes.
        """
        self._ready = ready
        now = self.clock()
        for service in self.services:
            record = self.records[service.name]
            record.state, record.up_since, record.ready_once, record.started_at = "starting", None, False, now
            if service.process is None:
                self.echo(f"… Đang khởi động {service.name}")
                if not self._launch_watching_log(service, record, now):
                    continue
            else:
                record.log_offset = _log_size(service.log_path)
        self.write_status()
        while True:
            if self.stopping or should_stop():
                return False
            self.poll(should_stop)
            if all(self.records[service.name].ready_once for service in self.services):
                return True
            sleep(interval_s)

    def run(self, should_stop: Callable[[], bool], interval_s: float = 0.5) -> None:
        """Poll until ``should_stop()``; then :meth:`stop`."""
        try:
            while not should_stop():
                self.poll(should_stop)
                time.sleep(interval_s)
        finally:
            self.stop()

    def poll(self, should_stop: Callable[[], bool] = lambda: False) -> None:
        """One look at every service: note a crash, start a due restart, forgive a stable one."""
        changed = False
        for service in self.services:
            if self.stopping or should_stop():
                break
            record = self.records[service.name]
            process = service.process
            now = self.clock()
            if record.state == "starting" and process is not None and process.poll() is not None:
                self._failed_start(service, record, describe_exit(process.returncode), process.returncode, now)
                changed = True
            elif record.state == "starting" and self._ready is not None and self._ready(service):
                self._became_ready(service, record)
                changed = True
            elif record.state == "starting" and now - record.started_at >= self.policy.startup_timeout_s:
                record.startup_failures += 1  # a start that never got ready failed too; not retried
                self._give_up(service, record, f"chưa sẵn sàng sau {self.policy.startup_timeout_s:g} giây")
            if record.state == "running" and process is not None and process.poll() is not None:
                self._crashed(service, record, process, now)
                changed = True
            if record.state == "waiting" and record.restart_due is not None and now >= record.restart_due:
                if self.stopping or should_stop():
                    break
                self._restart(service, record, now)
                changed = True
            elif (record.state == "running" and (record.consecutive_crashes or record.crash_loop)
                  and now - record.started_at >= self.policy.stable_after_s):
                # healthy again: the next crash starts the back-off anew, and a crash loop is over
                # (else /health would say «crash loop» for good about a service that serves)
                record.consecutive_crashes = 0
                if record.crash_loop:
                    record.crash_loop = False
                    record.recent_crashes.clear()
                    changed = True
                    self.echo(f"✓ [{now_text(self.wall())}] {service.name} đã chạy ổn định trở lại "
                              f"({self.policy.stable_after_s:g} giây không dừng).")
        if changed:
            self.write_status()

    def _crashed(self, service: Supervised, record: ServiceRecord, process: subprocess.Popen, now: float) -> None:
        _kill_leftovers(process.pid)  # its own children may still hold the port
        record.state = "waiting"
        record.last_exit_code = process.returncode
        record.last_exit_at = now_text(self.wall())
        record.up_since = None
        record.consecutive_crashes += 1
        record.recent_crashes.append(now)
        while record.recent_crashes and now - record.recent_crashes[0] > self.policy.storm_window_s:
            record.recent_crashes.popleft()
        was_looping = record.crash_loop
        record.crash_loop = len(record.recent_crashes) >= self.policy.storm_crashes
        delay = self.policy.delay(record.consecutive_crashes, record.crash_loop)
        record.restart_due = now + delay
        message = (f"[{now_text(self.wall())}] {service.name} đã dừng bất ngờ ({describe_exit(process.returncode)}); "
                   f"khởi động lại sau {delay:g} giây. Nhật ký: {service.log_path}")
        if record.crash_loop:
            self.warn(f"‼ {message}")
            if not was_looping:
                self.warn(f"‼ {service.name} đã dừng {len(record.recent_crashes)} lần trong "
                          f"{self.policy.storm_window_s:g} giây: cần kiểm tra ngay (xem nhật ký). "
                          f"Vẫn thử khởi động lại mỗi {self.policy.max_delay_s:g} giây.")
        else:
            self.echo(f"⚠ {message}")

    def _restart(self, service: Supervised, record: ServiceRecord, now: float) -> None:
        record.restart_due = None
        record.restarts += 1
        record.last_restart_at = now_text(self.wall())
        if not record.ready_once:  # still starting up: its next start, watched by start_up
            attempt = record.startup_failures + 1
            self.echo(f"↻ [{record.last_restart_at}] Khởi động lại {service.name} "
                      f"(lần thử {attempt}/{self.policy.startup_attempts})")
            record.state, record.started_at = "starting", now
            self._launch_watching_log(service, record, now)
            return
        try:
            self.launch(service)
        except Exception as exc:  # could not even start it: count as a crash, try again later
            self.warn(f"‼ [{record.last_restart_at}] Không khởi động lại được {service.name}: {exc}")
            record.state = "waiting"
            record.consecutive_crashes += 1
            record.restart_due = now + self.policy.delay(record.consecutive_crashes, record.crash_loop)
            return
        record.state = "running"
        record.started_at = now
        record.up_since = record.last_restart_at
        pid = service.process.pid if service.process is not None else None
        self.echo(f"↻ [{record.last_restart_at}] Đã khởi động lại {service.name} (lần {record.restarts}, pid {pid})")

    def _launch_watching_log(self, service: Supervised, record: ServiceRecord, now: float) -> bool:
        """Start a service that is not ready yet, noting where its log stands; a launch that raises
        (a missing executable) counts as a failed start. False when it could not be started."""
        record.log_offset = _log_size(service.log_path)
        known = service.log_path is not None
        try:
            self.launch(service)
        except Exception as exc:
            self._failed_start(service, record, f"không chạy được lệnh: {exc}", None, now)
            return False
        if not known:  # the launcher chose the log just now; the child has written nothing yet
            record.log_offset = _log_size(service.log_path)
        return True

    def _failed_start(self, service: Supervised, record: ServiceRecord, how: str, code: int | None,
                      now: float) -> None:
        """A start that ended before the service was ready: again after the back-off, or give up."""
        if service.process is not None:
            _kill_leftovers(service.process.pid)
        record.startup_failures += 1
        record.consecutive_crashes += 1
        record.last_exit_code = code
        record.last_exit_at = now_text(self.wall())
        record.up_since = None
        if record.startup_failures >= self.policy.startup_attempts:
            self._give_up(service, record, how)
        delay = self.policy.delay(record.startup_failures, storm=False)
        record.state, record.restart_due = "waiting", now + delay
        self.echo(f"⚠ [{record.last_exit_at}] {service.name} dừng khi đang khởi động ({how}), lần "
                  f"{record.startup_failures}/{self.policy.startup_attempts}; thử khởi động lại sau {delay:g} giây. "
                  f"Nhật ký: {service.log_path}")
        self.write_status()

    def _became_ready(self, service: Supervised, record: ServiceRecord) -> None:
        record.state, record.ready_once = "running", True
        record.up_since = now_text(self.wall())
        tries = f" sau {record.startup_failures + 1} lần thử" if record.startup_failures else ""
        self.echo(f"✓ {service.name} đã sẵn sàng{tries}")

    def _give_up(self, service: Supervised, record: ServiceRecord, how: str) -> None:
        record.state, record.restart_due = "failed", None
        self.write_status()
        lines = last_log_lines(service.log_path, record.log_offset, self.policy.log_lines)
        tail = "\n".join(f"    {line}" for line in lines) if lines else "    (không có dòng nào)"
        message = (f"{service.name} không khởi động được sau {record.startup_failures} lần thử ({how}); "
                   f"«motcua serve» dừng lại. Những dòng cuối {service.name} ghi ra "
                   f"(nhật ký: {service.log_path}):\n{tail}")
        self.warn(f"‼ {message}")
        raise StartupFailed(service.name, message, lines)

    def status(self) -> dict[str, Any]:
        services = {}
        for service in self.services:
            record = self.records[service.name]
            pid = service.process.pid if service.process is not None and record.state == "running" else None
            services[service.name] = record.public(pid)
        return {"supervisor_pid": os.getpid(), "updated_at": now_text(self.wall()), "stopping": self.stopping,
                "services": services}

    def write_status(self) -> None:
        """Atomically, so the gateway never reads half a file."""
        try:
            self.status_file.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.status_file.with_name(f".{self.status_file.name}.{os.getpid()}")
            temporary.write_text(json.dumps(self.status(), ensure_ascii=False, indent=2), encoding="utf-8")
            os.replace(temporary, self.status_file)
        except OSError as exc:  # a full disk must not stop the supervision itself
            self.warn(f"‼ Không ghi được {self.status_file}: {exc}")


class StartupFailed(RuntimeError):
    """``serve`` gives up: a child could not be started. ``str()`` says which, how, and its last lines."""

    def __init__(self, service: str, message: str, log_lines: list[str]):
        super().__init__(message)
        self.service = service
        self.log_lines = log_lines


def _log_size(path: Path | None) -> int:
    try:
        return path.stat().st_size if path is not None else 0
    except OSError:
        return 0


def last_log_lines(path: Path | None, offset: int = 0, count: int = 12, width: int = 300) -> list[str]:
    """The last ``count`` non-empty lines a child wrote to its log since ``offset`` (its output and
    errors share the file), each cut to ``width`` characters."""
    if path is None or count <= 0:
        return []
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            start = max(offset if 0 <= offset <= size else 0, size - 64 * 1024)
            handle.seek(start)
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return []
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return [line if len(line) <= width else line[:width] + "…" for line in lines[-count:]]


def _kill_leftovers(pid: int) -> None:
    """Children are started in their own session (process group = the child's pid)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def read_status(data_dir: Path) -> dict[str, Any] | None:
    """The last status written by ``motcua serve`` (None when there is none or it is unreadable)."""
    try:
        data = json.loads(status_path(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def supervisor_alive(status: dict[str, Any]) -> bool:
    pid = status.get("supervisor_pid")
    if not isinstance(pid, int) or pid <= 0 or status.get("stopping"):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
