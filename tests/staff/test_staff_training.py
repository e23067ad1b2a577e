"""Retraining with a gate: a worse model is refused, a better one is promoted into the running
Rasa (PUT /model, no restart) and rolled back — against a real ``rasa run --enable-api``."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from motcua.db import session_scope, upgrade_database
from motcua.runtime import ensure_model, rasa_environment, rasa_executable
from motcua.settings import ROOT, Settings
from motcua.staff.accounts import create_user
from motcua.staff.service import add_training_example
from motcua.training import (
    GateDecision,
    RasaModelLoader,
    Scores,
    TrainingRequest,
    create_run,
    gate,
    run_status,
    run_training,
)
from tests.servers import free_port
from tests.stack import MODEL_CACHE


def test_the_gate_refuses_any_regression_and_accepts_noise_within_tolerance():
    current = Scores(0.95, 0.92, 37, 0)
    assert gate(Scores(0.95, 0.92, 37, 0), current).promote
    assert gate(Scores(0.945, 0.93, 37, 0), current, tolerance=0.01).promote
    assert not gate(Scores(0.93, 0.95, 37, 0), current, tolerance=0.01).promote
    assert not gate(Scores(0.96, 0.80, 37, 0), current).promote
    worse_stories = gate(Scores(0.99, 0.99, 37, 1), current)
    assert not worse_stories.promote and "Kịch bản hội thoại lỗi: 1/37 so với 0/37 ✗ tăng" in worse_stories.reasons
    assert gate(Scores(0.5, 0.5, 37, 9), None) == GateDecision(True, ["Chưa có mô hình nào được đánh giá để so sánh."])
    with pytest.raises(ValueError):
        gate(current, current, tolerance=-1)


# --- against a real Rasa -------------------------------------------------------------------------

def _copy_project(target: Path) -> Path:
    target.mkdir(parents=True)
    for name in ("config.yml", "domain.yml"):
        shutil.copy(ROOT / name, target / name)
    shutil.copytree(ROOT / "nlu_data", target / "nlu_data")
    return target


def _make_worse(project: Path) -> None:
    """Half of every intent's examples, and one epoch for DIET and TED."""
    for path in (project / "nlu_data").glob("*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        changed = False
        for item in data.get("nlu", []) or []:
            if "intent" in item:
                lines = [line for line in str(item["examples"]).splitlines() if line.strip()]
                item["examples"] = "\n".join(lines[::2]) + "\n"
                changed = True
        if changed:
            path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    config = yaml.safe_load((project / "config.yml").read_text(encoding="utf-8"))
    for component in config["pipeline"] + config["policies"]:
        if "epochs" in component:
            component["epochs"] = 1
    (project / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))


def _start_rasa(settings: Settings, model: Path) -> subprocess.Popen:
    log = open(settings.data_dir / "rasa.log", "ab")  # noqa: SIM115 - owned by the child
    process = subprocess.Popen([str(rasa_executable()), "run", "--enable-api", "-i", "127.0.0.1", "-p",
                                str(settings.rasa_port), "-m", str(model)], cwd=ROOT, env=rasa_environment(settings),
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert process.poll() is None, (settings.data_dir / "rasa.log").read_text()[-3000:]
        try:
            if httpx.get(f"{settings.rasa_base_url}/status", timeout=1).json().get("model_file"):
                return process
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    os.killpg(process.pid, signal.SIGTERM)
    raise AssertionError("rasa did not start")


def _intent(settings: Settings, text: str) -> str:
    return httpx.post(f"{settings.rasa_base_url}/model/parse", json={"text": text}, timeout=30).json()["intent"]["name"]


@pytest.mark.slow
@pytest.mark.integration
def test_worse_model_is_refused_better_one_promoted_without_restart_then_rolled_back(tmp_path):
    baseline = ensure_model(Settings(data_dir=tmp_path, models_dir=MODEL_CACHE), echo=print)
    settings = Settings(data_dir=tmp_path, models_dir=tmp_path / "models", rasa_port=free_port())
    settings.model_directory.mkdir(parents=True)
    running = settings.model_directory / baseline.name
    shutil.copy(baseline, running)
    upgrade_database(settings.sqlalchemy_url)
    with session_scope(settings.sqlalchemy_url) as session:
        create_user(session, "quantri", "quan-tri-2024", role="admin")
    rasa = _start_rasa(settings, running)
    loader = RasaModelLoader(settings.rasa_base_url)
    try:
        # 1. A deliberately worse model (half the data, one epoch): the running model is first
        #    evaluated as the baseline, then the candidate is refused and Rasa keeps its model.
        worse = _copy_project(tmp_path / "worse")
        _make_worse(worse)
        request = TrainingRequest(actor="test", project_root=worse)
        run_id = create_run(settings, request)
        assert run_training(settings, run_id, request, loader, echo=print) == "refused"
        refused = run_status(settings, run_id)
        assert refused["progress"] == 100 and "Không đạt" in refused["decision"]
        assert loader.running_model() == running.name

        # 2. A better one — the full data plus an example staff added — trained from the admin
        #    page in the background, with progress; promoted into the running Rasa.
        better = _copy_project(tmp_path / "better")
        add_training_example(settings.staff_nlu_file, "ask_fee", "làm khai sinh cho cháu nội thì tốn bao nhiêu tiền",
                             project_root=better)
        app = _admin_app(settings, better)
        with TestClient(app) as admin:
            signed = admin.post("/api/v1/staff/login", json={"username": "quantri", "password": "quan-tri-2024"})
            assert signed.status_code == 200
            admin.headers["X-CSRF-Token"] = signed.cookies["motcua_csrf"]
            run = admin.post("/api/v1/admin/training", json={"promote_if_better": True}).json()["run_id"]
            assert admin.post("/api/v1/admin/training", json={}).status_code == 409  # one at a time
            seen_progress = set()
            deadline = time.monotonic() + 1200
            while time.monotonic() < deadline:
                status = admin.get(f"/api/v1/admin/training/{run}").json()
                seen_progress.add(status["progress"])
                if status["status"] not in ("queued", "running"):
                    break
                time.sleep(2)
            assert status["status"] == "promoted", status["decision"] + status["log"][-3000:]
            assert len(seen_progress) >= 3 and "Đạt" in status["decision"]
            models = admin.get("/api/v1/admin/models").json()
            by_status = {v["status"]: v for v in models["versions"]}
            assert set(by_status) == {"active", "previous", "refused"}
            assert models["running"] == by_status["active"]["file"]
            assert by_status["active"]["fingerprint"] == status["fingerprint"]
            assert by_status["active"]["stories_failed"] == 0
            assert by_status["refused"]["intent_f1"] < by_status["previous"]["intent_f1"]
            assert rasa.poll() is None  # loaded without a restart
            assert _intent(settings, "làm khai sinh cho cháu nội thì tốn bao nhiêu tiền") == "ask_fee"

            # 3. One click rollback: the previous model is loaded again, the same way.
            back = admin.post("/api/v1/admin/models/rollback").json()
            assert back["id"] == by_status["previous"]["id"]
            assert loader.running_model() == by_status["previous"]["file"]
            assert rasa.poll() is None
            actions = [e["action"] for e in admin.get("/api/v1/admin/audit").json()]
            assert {"training.start", "model.promote", "model.rollback"} <= set(actions)
    finally:
        os.killpg(rasa.pid, signal.SIGTERM)
        rasa.wait(timeout=30)


def _admin_app(settings: Settings, project: Path):
    from bot.app import create_app
    from bot.deps import get_training_options
    from bot.services import TrainingOptions

    app = create_app(settings)
    options = TrainingOptions(project_root=project, tolerance=0.02)  # retraining noise on 285 held-out utterances
    app.dependency_overrides[get_training_options] = lambda: options
    return app
