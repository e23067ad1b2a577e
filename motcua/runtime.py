"""Running the stack: the trained Rasa model, Rasa, the action server and the gateway.

Rasa lives in its own Python 3.10 environment (``.venvs/rasa``); everything
else runs from the app environment this module is imported in. Training runs
only when the training data, domain, config or Rasa version changed: the model
file is named by a fingerprint of those.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml
from sqlalchemy.engine import make_url

from motcua.settings import ROOT, Settings

RASA_VENV = Path(os.environ.get("MOTCUA_RASA_VENV", ROOT / ".venvs" / "rasa"))
TRAINING_INPUTS = ("config.yml", "domain.yml", "nlu_data")
MODEL_PREFIX = "motcua-"

Echo = Callable[[str], None]


class RuntimeProblem(RuntimeError):
    """Something the person running Một Cửa must fix; the message says what, in Vietnamese."""


def rasa_executable() -> Path:
    path = RASA_VENV / "bin" / "rasa"
    if not path.exists():
        raise RuntimeProblem(
            f"Chưa cài môi trường Rasa ({path}). Chạy «make setup» hoặc «make run» để cài tự động."
        )
    return path


RASA_LAUNCHER = Path(__file__).with_name("rasa_launch.py")


def rasa_launcher() -> list[str]:
    """What starts ``rasa run``: Rasa's interpreter on :mod:`motcua.rasa_launch` (Rasa, with the action
    server's answers checked by a schema compiled once)."""
    rasa = rasa_executable()
    return [str(rasa.with_name("python")), str(RASA_LAUNCHER)]


def training_files(root: Path = ROOT) -> list[Path]:
    files: list[Path] = []
    for name in TRAINING_INPUTS:
        path = root / name
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in {".yml", ".yaml", ".txt"})
        elif path.exists():
            files.append(path)
    return files


def training_data(root: Path = ROOT, staff_examples: Path | None = None) -> list[Path]:
    """What ``rasa train --data`` reads: the checkout's ``nlu_data/`` and, once staff added
    any, their examples file from the data directory (``Settings.staff_nlu_file``)."""
    return [root / "nlu_data", *([staff_examples] if staff_examples is not None and staff_examples.is_file() else [])]


def training_fingerprint(root: Path = ROOT, staff_examples: Path | None = None) -> str:
    """Same data, domain, config, staff examples and Rasa version give the same fingerprint
    (wherever the data directory is: the staff examples count by content only)."""
    digest = hashlib.sha256()
    lock = root / "requirements-rasa.lock"
    rasa_pin = next((line for line in lock.read_text().splitlines() if line.startswith("rasa==")), "") if lock.exists() else ""
    digest.update(rasa_pin.encode())
    labelled = [(str(path.relative_to(root)), path) for path in training_files(root)]
    labelled += [("staff examples", path) for path in training_data(root, staff_examples)[1:]]
    for label, path in labelled:
        digest.update(label.encode() + b"\0")
        digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()[:16]


def model_path(settings: Settings, fingerprint: str | None = None) -> Path:
    fingerprint = fingerprint or training_fingerprint(staff_examples=settings.staff_nlu_file)
    return settings.model_directory / f"{MODEL_PREFIX}{fingerprint}.tar.gz"


def rasa_environment(settings: Settings) -> dict[str, str]:
    env = {**os.environ, **settings_environment(settings)}
    env.update({
        "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONWARNINGS": "ignore", "LOG_LEVEL_LIBRARIES": "ERROR", "TF_ENABLE_ONEDNN_OPTS": "0",
    })
    env.pop("PYTHONPATH", None)
    return env


def ensure_model(settings: Settings, *, force: bool = False, echo: Echo = print) -> Path:
    """Train the Rasa model unless one with the current fingerprint exists."""
    fingerprint = training_fingerprint(staff_examples=settings.staff_nlu_file)
    target = model_path(settings, fingerprint)
    if target.exists() and not force:
        echo(f"✓ Mô hình Rasa đã cập nhật (dấu vân tay {fingerprint}), không cần huấn luyện lại.")
        return target
    settings.model_directory.mkdir(parents=True, exist_ok=True)
    # One training at a time per model directory: a second process waits, then finds the model made.
    with open(settings.model_directory / ".training.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists() and not force:
            echo(f"✓ Mô hình Rasa vừa được huấn luyện xong bởi tiến trình khác: {target}")
            return target
        return _train(settings, fingerprint, target, echo)


def _train(settings: Settings, fingerprint: str, target: Path, echo: Echo) -> Path:
    rasa = rasa_executable()
    work = settings.model_directory / f".training-{fingerprint}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    echo(f"… Đang huấn luyện mô hình Rasa (dấu vân tay {fingerprint}); thường mất 2–3 phút.")
    started = time.monotonic()
    data = [str(path) for path in training_data(ROOT, settings.staff_nlu_file)]
    command = [str(rasa), "train", "--data", *data, "--config", "config.yml", "--domain", "domain.yml",
               "--out", str(work), "--fixed-model-name", target.name.removesuffix(".tar.gz")]
    process = subprocess.run(command, cwd=ROOT, env=rasa_environment(settings), check=False)
    produced = work / target.name
    if process.returncode != 0 or not produced.exists():
        shutil.rmtree(work, ignore_errors=True)
        raise RuntimeProblem(f"Huấn luyện Rasa thất bại (mã {process.returncode}). Xem thông báo lỗi ở trên.")
    os.replace(produced, target)  # atomic: a crash never leaves a half-written model in place
    shutil.rmtree(work, ignore_errors=True)
    echo(f"✓ Đã huấn luyện xong trong {time.monotonic() - started:.0f} giây: {target}")
    return target


def serving_model(settings: Settings, *, train: bool = True, echo: Echo = print) -> Path:
    """The model ``serve`` starts Rasa with: the one promoted from the admin page when it was trained on
    today's data, else the one of today's fingerprint — trained now if ``train``, else it must exist."""
    from motcua.training import active_model_path

    active = active_model_path(settings)
    fingerprint = training_fingerprint(staff_examples=settings.staff_nlu_file)
    if active is not None and active.name.endswith(f"-{fingerprint}.tar.gz"):
        echo(f"✓ Dùng mô hình đang hoạt động: {active.name}")
        return active
    if train:
        return ensure_model(settings, echo=echo)
    target = model_path(settings, fingerprint)
    if not target.exists():
        raise RuntimeProblem(f"Chưa có mô hình Rasa cho dữ liệu hiện tại ({target}). "
                             "Chạy «motcua prepare» (hoặc «motcua train») trước.")
    return target


def endpoints_config(settings: Settings, worker: int = 1) -> dict:
    """Rasa's endpoints: our action server (Rasa worker *i* calls action server *i*), the tracker store in
    our database, the lock store."""
    url = make_url(settings.sqlalchemy_url)
    if url.get_backend_name() == "sqlite":
        tracker: dict[str, str | int | None] = {"type": "SQL", "dialect": "sqlite", "db": url.database}
    else:
        tracker = {"type": "SQL", "dialect": "postgresql", "url": url.host or "127.0.0.1",
                   "port": url.port or 5432, "db": url.database, "username": url.username or "",
                   "password": url.password or ""}
    actions = settings.action_webhook_urls
    config: dict = {"action_endpoint": {"url": actions[(worker - 1) % len(actions)]}, "tracker_store": tracker}
    if settings.redis_url:
        redis = make_url(settings.redis_url)
        config["lock_store"] = {"type": "redis", "url": redis.host or "127.0.0.1", "port": redis.port or 6379,
                                "db": int(redis.database or 0), "key_prefix": settings.redis_namespace}
    return config


def endpoints_path(settings: Settings, worker: int = 1) -> Path:
    return settings.data_dir / "runtime" / ("endpoints.yml" if worker == 1 else f"endpoints-{worker}.yml")


def write_endpoints(settings: Settings, worker: int = 1) -> Path:
    """Rasa's endpoints file; owner-only, since it holds the database password. Written aside and
    moved into place: several Rasa processes sharing a data directory never read half a file."""
    path = endpoints_path(settings, worker)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    with private_file(temporary, "w") as handle:
        handle.write(yaml.safe_dump(endpoints_config(settings, worker), allow_unicode=True, sort_keys=False))
    os.replace(temporary, path)
    return path


def private_file(path: Path, mode: str):
    """``open(path, mode)`` ("w", "ab"…) for a file readable by its owner only, whatever the umask;
    an existing file is made owner-only too."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    descriptor = os.open(path, flags, 0o600)
    os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, mode)


def settings_environment(settings: Settings) -> dict[str, str]:
    """The settings as MOTCUA_ variables, so child processes see exactly the same."""
    env = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        env[f"MOTCUA_{name.upper()}"] = json.dumps(value) if isinstance(value, list) else str(value)
    return env


def rasa_run_command(settings: Settings, model: Path, endpoints: Path, worker: int = 1) -> list[str]:
    """``rasa run`` on ``Settings.internal_host`` (127.0.0.1 unless a deployment says otherwise) with its
    HTTP API behind a token.

    The API (``/conversations/<id>/tracker``, ``PUT /model``…) hands out whole conversations,
    CCCD included, and swaps the model; only our own processes know the token
    (:attr:`Settings.rasa_token`). The REST channel the gateway posts to is not guarded by it.
    """
    return [*rasa_launcher(), "run", "--enable-api", "--auth-token", settings.rasa_token,
            "-i", settings.internal_host, "-p", str(settings.rasa_port + worker - 1), "-m", str(model), "--endpoints",
            str(endpoints), "--credentials", str(ROOT / "credentials.yml")]


@dataclass
class Service:
    name: str
    command: list[str]
    ready_url: str
    env: dict[str, str]
    process: subprocess.Popen | None = None
    log_path: Path | None = None


CHILDREN = ("fake-portal", "action-server", "rasa", "gateway")
"""The processes ``motcua serve`` starts, in the order it starts them (the fake portal only in a demo).
With several workers (``MOTCUA_WORKERS``) the action server and Rasa come N times: ``rasa``, ``rasa-2``…,
each on the next port; the gateway is one port with N processes behind it (uvicorn's workers)."""
WORKER_KINDS = ("action-server", "rasa")


def worker_of(name: str) -> tuple[str, int]:
    """``"rasa-2"`` → ``("rasa", 2)``; ``"rasa"`` → ``("rasa", 1)``."""
    kind, _, number = name.rpartition("-")
    if kind in WORKER_KINDS and number.isdigit() and int(number) >= 2:
        return kind, int(number)
    return name, 1


def workers_problem(settings: Settings) -> str:
    """Why ``settings`` cannot run several workers (empty: they can, or there is one)."""
    if settings.workers <= 1:
        return ""
    missing = []
    if not settings.redis_url:
        missing.append("Redis (MOTCUA_REDIS_URL: khóa hội thoại của Rasa, sự kiện giữa các gateway)")
    if make_url(settings.sqlalchemy_url).get_backend_name() == "sqlite":
        missing.append("PostgreSQL (MOTCUA_DATABASE_URL: nhiều tiến trình cùng ghi hội thoại)")
    if not missing:
        return ""
    return f"Chạy {settings.workers} worker (MOTCUA_WORKERS) cần " + " và ".join(missing) + "."


def demo_portal_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.demo_portal_port}/api/v1/dossier-events"


def serve_settings(settings: Settings) -> Settings:
    """The settings ``serve``'s children run with: with no national portal configured (and a demo
    port), dossiers are synced to the local fake portal ``serve`` starts."""
    if settings.portal_url or settings.demo_portal_port <= 0:
        return settings
    return settings.model_copy(update={"portal_url": demo_portal_url(settings)})


def child_names(settings: Settings) -> list[str]:
    """The children of ``serve`` for these settings (as :func:`serve_settings` gives them)."""
    demo = settings.demo_portal_port > 0 and settings.portal_url == demo_portal_url(settings)
    names = []
    for name in CHILDREN:
        if name == "fake-portal" and not demo:
            continue
        names.append(name)
        if name in WORKER_KINDS:
            names += [f"{name}-{i}" for i in range(2, settings.workers + 1)]
    return names


def _reachable(host: str) -> str:
    """Where this machine reaches a process listening on ``host`` (all interfaces: on loopback)."""
    host = "127.0.0.1" if host in {"", "0.0.0.0", "::", "[::]"} else host
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def ready_url(settings: Settings, name: str) -> str:
    """Where the supervisor looks whether child ``name`` is ready (:func:`service_ready`)."""
    s = settings
    kind, worker = worker_of(name)
    shift = worker - 1
    urls = {"fake-portal": f"http://127.0.0.1:{s.demo_portal_port}/admin/deliveries",
            "action-server": f"http://{_reachable(s.internal_host)}:{s.action_port + shift}/health",
            "rasa": f"http://{_reachable(s.internal_host)}:{s.rasa_port + shift}/status?token={s.rasa_token}",
            "gateway": f"http://{_reachable(s.host)}:{s.gateway_port}/health"}
    if kind not in urls:
        raise ValueError(f"unknown child of motcua serve: {name!r} (one of {', '.join(CHILDREN)})")
    return urls[kind]


def child_service(settings: Settings, name: str, model: Path | None = None, endpoints: Path | None = None) -> Service:
    """One child of ``motcua serve``: its command line, environment and readiness URL, from ``settings``
    (as :func:`serve_settings` gives them). Rasa needs its ``model`` and ``endpoints`` file.

    The supervisor starts this, and so do ``motcua serve-one`` (one child in the foreground) and,
    through it, the Docker Compose file and the systemd units in ``deploy/``: one command line each.
    """
    s = settings
    python = sys.executable
    app_env = {**os.environ, **settings_environment(s)}
    kind, worker = worker_of(name)
    if name == "fake-portal":
        return Service(name, [python, "-m", "devices.fake_portal", "--port", str(s.demo_portal_port)],
                       ready_url(s, name), app_env)
    if kind == "action-server":
        return Service(name, [python, "-m", "uvicorn", "actions.server:create_app", "--factory",
                              "--host", s.internal_host, "--port", str(s.action_port + worker - 1), "--ws", "wsproto",
                              "--log-level", "warning"],
                       ready_url(s, name), app_env)
    if kind == "rasa":
        if model is None or endpoints is None:
            raise ValueError("rasa needs the model and the endpoints file it is started with")
        return Service(name, rasa_run_command(s, model, endpoints, worker), ready_url(s, name), rasa_environment(s))
    if name == "gateway":
        several = ["--workers", str(s.workers)] if s.workers > 1 else []  # one port, N processes (uvicorn)
        return Service(name, [python, "-m", "uvicorn", "bot.app:create_app", "--factory", *several, "--host", s.host,
                              "--port", str(s.gateway_port), "--ws", "wsproto", "--log-level", "warning",
                              "--timeout-graceful-shutdown", "5",
                              "--ws-max-size", str(s.max_request_bytes),  # a kiosk frame: no bigger than a body
                              "--no-proxy-headers"],  # client IPs: only MOTCUA_TRUSTED_PROXIES (bot/security.py)
                       ready_url(s, name), app_env)
    raise ValueError(f"unknown child of motcua serve: {name!r} (one of {', '.join(CHILDREN)})")


def service_ready(service: Service) -> bool:
    """One look: does the started service answer (Rasa: with its model loaded)?"""
    try:
        # The gateway's /health is 503 until all are up; being answered is enough here.
        response = httpx.get(service.ready_url, timeout=1.0)
        if response.status_code < 500 or service.name == "gateway":
            return service.name != "rasa" or bool(response.json().get("model_file"))
    except (httpx.HTTPError, ValueError):
        pass
    return False


@dataclass
class Stack:
    """Rasa, the action server and the gateway as child processes, stopped together.

    ``motcua serve`` starts them through :meth:`motcua.supervisor.Supervisor.start_up` (a child that
    dies while starting is started again) and restarts one that dies later (with :meth:`restart`,
    readiness by :meth:`is_ready`); a stack started alone (:meth:`start`: tests, benchmarks) is not
    supervised and stops at the first failure.
    """

    settings: Settings
    model: Path
    echo: Echo = print
    services: list[Service] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.settings = serve_settings(self.settings)
        problem = workers_problem(self.settings)
        if problem:
            raise RuntimeProblem(problem)
        self.services = [child_service(self.settings, name, self.model,
                                       write_endpoints(self.settings, worker_of(name)[1]))
                         for name in child_names(self.settings)]

    def start(self, timeout_s: float = 240.0) -> None:
        for service in self.services:
            self.launch(service)
            self.echo(f"… Đang khởi động {service.name} (nhật ký: {service.log_path})")
        deadline = time.monotonic() + timeout_s
        for service in self.services:
            self._wait_ready(service, deadline)
            self.echo(f"✓ {service.name} đã sẵn sàng")

    def launch(self, service: Service) -> None:
        """Start the service's process (again), appending to its log; does not wait until it is ready."""
        logs = self.settings.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        service.log_path = logs / f"{service.name}.log"
        # The log is owner-only: it is about citizens' requests. The child keeps its own copy of the handle.
        with private_file(service.log_path, "ab") as handle:
            service.process = subprocess.Popen(service.command, cwd=ROOT, env=service.env, stdout=handle,
                                               stderr=subprocess.STDOUT, start_new_session=True)

    def restart(self, service: Service) -> None:
        """What the supervisor calls: Rasa comes back with the model it should be serving now."""
        kind, worker = worker_of(service.name)
        if kind == "rasa":
            model = self.current_model()
            if model != self.model:
                self.echo(f"… Rasa sẽ dùng mô hình đang hoạt động: {model.name}")
                self.model = model
            service.command = rasa_run_command(self.settings, self.model, write_endpoints(self.settings, worker),
                                               worker)
        self.launch(service)

    def current_model(self) -> Path:
        """The model promoted from the admin page if it was trained on today's data (the rule of
        ``motcua serve``), else the one the stack was started with."""
        try:
            from motcua.training import active_model_path

            active = active_model_path(self.settings)
            fingerprint = training_fingerprint(staff_examples=self.settings.staff_nlu_file)
        except Exception:  # database or files unreadable right now: keep serving what we had
            return self.model
        if active is not None and active.name.endswith(f"-{fingerprint}.tar.gz"):
            return active
        return self.model

    def is_ready(self, service: Service) -> bool:
        """One look: does the started service answer (Rasa: with its model loaded)?"""
        return service_ready(service)

    def _wait_ready(self, service: Service, deadline: float) -> None:
        while time.monotonic() < deadline:
            assert service.process is not None
            if service.process.poll() is not None:
                self.stop()
                raise RuntimeProblem(f"{service.name} đã dừng khi khởi động (mã {service.process.returncode}). "
                                     f"Xem nhật ký: {service.log_path}")
            if self.is_ready(service):
                return
            time.sleep(0.5)
        self.stop()
        raise RuntimeProblem(f"{service.name} không khởi động kịp. Xem nhật ký: {service.log_path}")

    def stop(self) -> None:
        for service in reversed(self.services):
            if service.process and service.process.poll() is None:
                try:
                    os.killpg(service.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for service in self.services:
            if service.process:
                try:
                    service.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(service.process.pid, signal.SIGKILL)
                    service.process.wait()

    def urls(self) -> dict[str, str]:
        base = f"http://{self.settings.host}:{self.settings.gateway_port}"
        return {"Trang kiosk": f"{base}/kiosk", "Bảng gọi số": f"{base}/board", "Cán bộ": f"{base}/staff",
                "Tài liệu API": f"{base}/docs", "Tình trạng": f"{base}/health", "Rasa": self.settings.rasa_base_url}
