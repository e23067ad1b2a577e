"""Retraining in the background: train a candidate, evaluate it, promote it only when it does
not regress, and load it into the running Rasa without a restart (``PUT /model``).

Every trained model is kept as a version (``<models>/versions/motcua-vNNNN-<fingerprint>.tar.gz``)
in the ``model_versions`` registry with its data fingerprint and scores: intent macro-F1 and
entity F1 on the held-out NLU set (``tests/nlu/heldout.yml``) and the story tests
(``tests/stories``). Rollback loads the previous active version the same way.

A run trains on the checkout's ``nlu_data/`` and the examples staff added from the review page,
which live in the data directory (``Settings.staff_nlu_file``).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import desc, select

from motcua.db import session_scope, utcnow
from motcua.rasa_eval import evaluate_nlu, run_story_tests
from motcua.runtime import (
    MODEL_PREFIX,
    model_path,
    rasa_environment,
    rasa_executable,
    training_data,
    training_fingerprint,
)
from motcua.settings import ROOT, Settings
from motcua.staff.accounts import record_audit
from motcua.staff.models import ModelVersion, TrainingRun

log = logging.getLogger(__name__)

DEFAULT_TOLERANCE = 0.01
"""F1 may drop this much and still count as «no regression» (retraining noise); stories may not fail more."""
LOG_LIMIT = 60_000
_job_lock = threading.Lock()

Echo = Callable[[str], None]


class TrainingProblem(RuntimeError):
    """Something went wrong in training, evaluation or loading; the message is Vietnamese."""


@dataclass(frozen=True)
class Scores:
    intent_f1: float
    entity_f1: float
    stories_total: int
    stories_failed: int
    detail: dict = field(default_factory=dict)

    @classmethod
    def of(cls, version: ModelVersion) -> Scores | None:
        if version.intent_f1 is None:
            return None
        return cls(version.intent_f1, version.entity_f1 or 0.0, version.stories_total or 0,
                   version.stories_failed or 0, version.scores or {})


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reasons: list[str]

    def describe(self) -> str:
        head = "Đạt: mô hình mới không kém hơn, sẽ đưa vào sử dụng." if self.promote else \
            "Không đạt: mô hình mới kém hơn mô hình đang dùng, giữ nguyên mô hình cũ."
        return "\n".join([head, *(f"- {r}" for r in self.reasons)])


def gate(candidate: Scores, current: Scores | None, tolerance: float = DEFAULT_TOLERANCE) -> GateDecision:
    """Promote only when the candidate does not regress against the current model."""
    if tolerance < 0:
        raise ValueError("tolerance must not be negative")
    if current is None:
        return GateDecision(True, ["Chưa có mô hình nào được đánh giá để so sánh."])
    reasons, ok = [], True
    for label, new, old in (("F1 ý định (macro)", candidate.intent_f1, current.intent_f1),
                            ("F1 thực thể", candidate.entity_f1, current.entity_f1)):
        passed = new >= old - tolerance
        ok &= passed
        reasons.append(f"{label}: {new:.4f} so với {old:.4f} {'✓' if passed else '✗ giảm'}")
    passed = candidate.stories_failed <= current.stories_failed
    ok &= passed
    reasons.append(f"Kịch bản hội thoại lỗi: {candidate.stories_failed}/{candidate.stories_total} so với "
                   f"{current.stories_failed}/{current.stories_total} {'✓' if passed else '✗ tăng'}")
    return GateDecision(ok, reasons)


class RasaModelLoader:
    """Rasa's HTTP API (``rasa run --enable-api``): which model runs, and load another one — into every
    Rasa server when there are several workers (``rasa_url`` a list), one after the other, so the others
    keep answering while one loads."""

    def __init__(self, rasa_url: str | list[str], token: str = "", timeout_s: float = 600.0):
        urls = [rasa_url] if isinstance(rasa_url, str) else list(rasa_url)
        self.rasa_urls = [url.rstrip("/") for url in urls]
        self.rasa_url = self.rasa_urls[0]
        self.params = {"token": token} if token else {}
        self.timeout_s = timeout_s

    def status(self) -> dict:
        response = httpx.get(f"{self.rasa_url}/status", params=self.params, timeout=5)
        response.raise_for_status()
        return response.json()

    def running_model(self) -> str:
        try:
            return str(self.status().get("model_file") or "")
        except (httpx.HTTPError, ValueError):
            return ""

    def load(self, path: Path) -> None:
        for url in self.rasa_urls:
            try:
                response = httpx.put(f"{url}/model", json={"model_file": str(path)}, params=self.params,
                                     timeout=self.timeout_s)
            except httpx.HTTPError as exc:
                raise TrainingProblem(f"Không gọi được Rasa tại {url} để nạp mô hình ({exc!r}).") from exc
            if response.status_code != 204:
                raise TrainingProblem(f"Rasa không nạp được mô hình {path.name} (HTTP {response.status_code}: "
                                      f"{response.text[:300]}).")


# --- the registry ------------------------------------------------------------------------------

def versions_dir(settings: Settings) -> Path:
    return settings.model_directory / "versions"


def active_version(session) -> ModelVersion | None:
    return session.scalar(select(ModelVersion).where(ModelVersion.status == "active")
                          .order_by(desc(ModelVersion.promoted_at)).limit(1))


def active_model_path(settings: Settings) -> Path | None:
    """The promoted model, for ``motcua serve`` to start Rasa with (None when none is registered)."""
    with session_scope(settings.sqlalchemy_url) as session:
        version = active_version(session)
        path = Path(version.path) if version else None
    return path if path and path.exists() else None


def list_versions(session, limit: int = 50) -> list[ModelVersion]:
    return list(session.scalars(select(ModelVersion).order_by(desc(ModelVersion.id)).limit(limit)))


def version_dict(version: ModelVersion) -> dict:
    return {"id": version.id, "fingerprint": version.fingerprint, "file": Path(version.path).name,
            "status": version.status, "intent_f1": version.intent_f1, "entity_f1": version.entity_f1,
            "stories_total": version.stories_total, "stories_failed": version.stories_failed,
            "note": version.note, "created_at": version.created_at.isoformat(),
            "promoted_at": version.promoted_at.isoformat() if version.promoted_at else None,
            "promoted_by": version.promoted_by}


def _store_scores(version: ModelVersion, scores: Scores) -> None:
    version.intent_f1, version.entity_f1 = scores.intent_f1, scores.entity_f1
    version.stories_total, version.stories_failed = scores.stories_total, scores.stories_failed
    version.scores = scores.detail


def evaluate_model(settings: Settings, model: Path, echo: Echo = print) -> Scores:
    """Held-out NLU set and story tests; the reports go to a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="motcua-eval-") as work:
        echo(f"… Đánh giá NLU trên tập giữ lại ({model.name})")
        nlu = evaluate_nlu(settings, model, Path(work) / "nlu")
        echo(f"  F1 ý định (macro) {nlu.intent_macro_f1}, F1 thực thể {nlu.best_entity_f1}")
        echo("… Chạy kịch bản hội thoại kiểm thử (tests/stories)")
        stories = run_story_tests(settings, model, Path(work) / "stories")
        echo(f"  Kịch bản lỗi: {len(stories.failed)}/{stories.total}")
    return Scores(nlu.intent_macro_f1, nlu.best_entity_f1, stories.total, len(stories.failed),
                  {"entity_f1": nlu.entity_f1, "failed_stories": stories.failed,
                   "confusions": [list(c) for c in nlu.confusions[:10]], "utterances": nlu.utterances})


def _copy_into_versions(settings: Settings, source: Path, version_id: int, fingerprint: str) -> Path:
    target = versions_dir(settings) / f"{MODEL_PREFIX}v{version_id:04d}-{fingerprint}.tar.gz"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    return target


def register_model(settings: Settings, model: Path, *, fingerprint: str, scores: Scores | None, status: str,
                   note: str = "", actor: str = "system") -> int:
    """Copy ``model`` into the versions directory and add it to the registry; returns the version id."""
    with session_scope(settings.sqlalchemy_url) as session:
        version = ModelVersion(fingerprint=fingerprint, path="", status=status, note=note)
        session.add(version)
        session.flush()
        version.path = str(_copy_into_versions(settings, model, version.id, fingerprint))
        if scores:
            _store_scores(version, scores)
        if status == "active":
            version.promoted_at, version.promoted_by = utcnow(), actor
        record_audit(session, actor, "model.register", f"model:{version.id}", None,
                     {"file": Path(version.path).name, "status": status})
        return version.id


def ensure_baseline(settings: Settings, loader: RasaModelLoader, echo: Echo = print) -> int | None:
    """With an empty registry, register (and evaluate) the model Rasa runs now as the active one."""
    with session_scope(settings.sqlalchemy_url) as session:
        current = active_version(session)
        if current is not None:
            return current.id
    running = loader.running_model()
    candidates = [settings.model_directory / running, versions_dir(settings) / running] if running else []
    candidates.append(model_path(settings))
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        echo("Chưa có mô hình nào để so sánh: mô hình mới sẽ là mô hình đầu tiên.")
        return None
    echo(f"… Đánh giá mô hình đang chạy ({path.name}) để làm mốc so sánh")
    scores = evaluate_model(settings, path, echo)
    fingerprint = path.name.removeprefix(MODEL_PREFIX).removesuffix(".tar.gz").split("-")[-1]
    return register_model(settings, path, fingerprint=fingerprint, scores=scores, status="active",
                          note="mô hình đang chạy khi bắt đầu dùng sổ đăng ký")


def promote(settings: Settings, version_id: int, loader: RasaModelLoader, *, actor: str) -> ModelVersion:
    """Load the version into the running Rasa, then mark it active (the old one becomes «previous»)."""
    with session_scope(settings.sqlalchemy_url) as session:
        version = session.get(ModelVersion, version_id)
        if version is None:
            raise TrainingProblem(f"Không có phiên bản mô hình số {version_id}.")
        path = Path(version.path)
    if not path.is_file():
        raise TrainingProblem(f"Tệp mô hình {path} không còn.")
    loader.load(path)
    with session_scope(settings.sqlalchemy_url) as session:
        version = session.get_one(ModelVersion, version_id)
        before = active_version(session)
        if before is not None and before.id != version.id:
            before.status = "previous"
        version.status, version.promoted_at, version.promoted_by = "active", utcnow(), actor
        record_audit(session, actor, "model.promote", f"model:{version.id}",
                     {"active": before.id if before else None}, {"active": version.id, "file": path.name})
        session.flush()
        session.expunge(version)
        return version


def rollback(settings: Settings, loader: RasaModelLoader, *, actor: str) -> ModelVersion:
    """Load the previously active version again (one click on the admin page)."""
    with session_scope(settings.sqlalchemy_url) as session:
        current = active_version(session)
        query = select(ModelVersion).where(ModelVersion.status == "previous", ModelVersion.promoted_at.is_not(None))
        if current is not None:
            query = query.where(ModelVersion.id != current.id)
        previous = session.scalar(query.order_by(desc(ModelVersion.promoted_at)).limit(1))
        if previous is None:
            raise TrainingProblem("Không có mô hình trước đó để quay lại.")
        previous_id, current_id = previous.id, current.id if current else None
        path = Path(previous.path)
    if not path.is_file():
        raise TrainingProblem(f"Tệp mô hình {path} không còn.")
    loader.load(path)
    with session_scope(settings.sqlalchemy_url) as session:
        previous = session.get_one(ModelVersion, previous_id)
        if current_id is not None:
            session.get_one(ModelVersion, current_id).status = "rolled_back"
        previous.status, previous.promoted_at, previous.promoted_by = "active", utcnow(), actor
        record_audit(session, actor, "model.rollback", f"model:{previous_id}", {"active": current_id},
                     {"active": previous_id, "file": path.name})
        session.flush()
        session.expunge(previous)
        return previous


# --- a training run ------------------------------------------------------------------------------

@dataclass
class TrainingRequest:
    actor: str = "system"
    project_root: Path = ROOT
    promote_if_better: bool = True
    tolerance: float = DEFAULT_TOLERANCE
    note: str = ""


class _RunLog:
    """Appends to the run's log file and mirrors the tail and the progress into the database."""

    def __init__(self, settings: Settings, run_id: int, echo: Echo | None):
        self.settings, self.run_id, self.echo = settings, run_id, echo
        self.path = settings.data_dir / "training" / f"run-{run_id:04d}.log"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lines: list[str] = []
        self._last_flush = 0.0

    def __call__(self, line: str) -> None:
        line = line.rstrip()
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        self.lines.append(line)
        if self.echo:
            self.echo(line)
        if time.monotonic() - self._last_flush > 2:
            self.update()

    def update(self, **fields) -> None:
        self._last_flush = time.monotonic()
        text = "\n".join(self.lines)[-LOG_LIMIT:]
        with session_scope(self.settings.sqlalchemy_url) as session:
            run = session.get_one(TrainingRun, self.run_id)
            run.log = text
            for key, value in fields.items():
                setattr(run, key, value)


def _train(settings: Settings, root: Path, fingerprint: str, out: Path, say: _RunLog) -> Path:
    name = f"{MODEL_PREFIX}candidate-{fingerprint}"
    data = [str(path) for path in training_data(root, settings.staff_nlu_file)]
    command = [str(rasa_executable()), "train", "--data", *data, "--config",
               str(root / "config.yml"), "--domain", str(root / "domain.yml"), "--out", str(out),
               "--fixed-model-name", name]
    process = subprocess.Popen(command, cwd=ROOT, env=rasa_environment(settings), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, bufsize=1)
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip() and "%|" not in line:  # progress bars flood the log
            say(line)
    code = process.wait()
    produced = out / f"{name}.tar.gz"
    if code != 0 or not produced.exists():
        raise TrainingProblem(f"Huấn luyện Rasa thất bại (mã {code}). Xem nhật ký.")
    return produced


def create_run(settings: Settings, request: TrainingRequest) -> int:
    """A queued run (refused when another run has not finished)."""
    with session_scope(settings.sqlalchemy_url) as session:
        busy = session.scalar(select(TrainingRun).where(TrainingRun.status.in_(("queued", "running"))))
        if busy is not None:
            if _job_lock.locked():
                raise TrainingProblem(f"Đang có một lượt huấn luyện (số {busy.id}); chờ lượt đó xong.")
            busy.status, busy.decision = "failed", "Bị gián đoạn (máy chủ khởi động lại)."
        run = TrainingRun(status="queued", stage="Đang chờ", started_by=request.actor, decision=request.note)
        session.add(run)
        session.flush()
        record_audit(session, request.actor, "training.start", f"training:{run.id}", None,
                     {"promote_if_better": request.promote_if_better})
        return run.id


def run_training(settings: Settings, run_id: int, request: TrainingRequest, loader: RasaModelLoader,
                 echo: Echo | None = None) -> str:
    """Train, evaluate, gate, maybe promote; returns the run's final status."""
    if not _job_lock.acquire(blocking=False):
        raise TrainingProblem("Đang có một lượt huấn luyện khác.")
    say = _RunLog(settings, run_id, echo)
    try:
        fingerprint = training_fingerprint(request.project_root, settings.staff_nlu_file)
        say.update(status="running", stage="Chuẩn bị", progress=2, fingerprint=fingerprint)
        say(f"Lượt huấn luyện số {run_id}: dữ liệu có dấu vân tay {fingerprint}")
        baseline_id = ensure_baseline(settings, loader, say)
        say.update(stage="Huấn luyện mô hình", progress=10)
        with tempfile.TemporaryDirectory(prefix="motcua-train-", dir=settings.data_dir) as work:
            trained = _train(settings, request.project_root, fingerprint, Path(work), say)
            say.update(stage="Đánh giá trên tập giữ lại và kịch bản", progress=60)
            scores = evaluate_model(settings, trained, say)
            version_id = register_model(settings, trained, fingerprint=fingerprint, scores=scores,
                                        status="candidate", note=request.note, actor=request.actor)
        say.update(stage="So sánh với mô hình đang dùng", progress=90, model_version_id=version_id)
        with session_scope(settings.sqlalchemy_url) as session:
            current = active_version(session)
            current_scores = Scores.of(current) if current is not None else None
        decision = gate(scores, current_scores, request.tolerance)
        say(decision.describe())
        if decision.promote and request.promote_if_better:
            say.update(stage="Nạp mô hình mới vào Rasa", progress=95)
            promote(settings, version_id, loader, actor=request.actor)
            status, text = "promoted", decision.describe() + f"\nĐã đưa phiên bản {version_id} vào sử dụng."
        elif decision.promote:
            status, text = "passed", decision.describe() + "\nChưa đưa vào sử dụng (không yêu cầu)."
        else:
            with session_scope(settings.sqlalchemy_url) as session:
                session.get_one(ModelVersion, version_id).status = "refused"
            status, text = "refused", decision.describe()
        say(f"Kết thúc: {status} (mốc so sánh: phiên bản {baseline_id})")
        say.update(status=status, stage="Xong", progress=100, decision=text, finished_at=utcnow())
        return status
    except Exception as exc:
        log.exception("training run %s failed", run_id)
        say(f"LỖI: {exc}")
        say.update(status="failed", stage="Lỗi", decision=str(exc), finished_at=utcnow())
        return "failed"
    finally:
        _job_lock.release()


def start_training(settings: Settings, request: TrainingRequest, loader: RasaModelLoader) -> int:
    """Queue a run and do it in a background thread; follow it with :func:`run_status`."""
    run_id = create_run(settings, request)
    thread = threading.Thread(target=run_training, args=(settings, run_id, request, loader),
                              name=f"training-{run_id}", daemon=True)
    thread.start()
    return run_id


def run_status(settings: Settings, run_id: int) -> dict | None:
    with session_scope(settings.sqlalchemy_url) as session:
        run = session.get(TrainingRun, run_id)
        if run is None:
            return None
        return run_dict(run, with_log=True)


def run_dict(run: TrainingRun, with_log: bool = False) -> dict:
    data = {"id": run.id, "status": run.status, "stage": run.stage, "progress": run.progress,
            "started_by": run.started_by, "fingerprint": run.fingerprint, "model_version_id": run.model_version_id,
            "decision": run.decision, "created_at": run.created_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None}
    if with_log:
        data["log"] = run.log
    return data


def list_runs(settings: Settings, limit: int = 20) -> list[dict]:
    with session_scope(settings.sqlalchemy_url) as session:
        return [run_dict(r) for r in session.scalars(select(TrainingRun).order_by(desc(TrainingRun.id)).limit(limit))]


__all__ = ["GateDecision", "RasaModelLoader", "Scores", "TrainingProblem", "TrainingRequest", "active_model_path",
           "ensure_baseline", "evaluate_model", "gate", "list_runs", "promote", "register_model",
           "rollback", "run_status", "run_training", "start_training"]
