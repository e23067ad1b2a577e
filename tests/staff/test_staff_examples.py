"""The training examples staff add: written under the data directory, never into the checkout,
and read by every training (its fingerprint and ``rasa train --data``)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import yaml

import motcua.runtime as runtime
import motcua.training as training
from motcua.runtime import ensure_model, training_data, training_fingerprint
from motcua.settings import ROOT, Settings
from motcua.staff.service import ReviewError, add_training_example

EXAMPLE = "làm khai sinh cho cháu nội thì tốn bao nhiêu tiền"


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("config.yml", "domain.yml", "requirements-rasa.lock"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "nlu_data", project / "nlu_data")
    return project


def _tree_digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def _first_checkout_example() -> str:
    for path in sorted((ROOT / "nlu_data").glob("nlu_*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in item:
                return str(item["examples"]).splitlines()[0].strip()[2:]
    raise AssertionError("nlu_data/ has no intent examples")


def test_staff_examples_go_to_the_data_directory_and_the_checkout_stays_untouched(tmp_path):
    project = _project(tmp_path)
    settings = Settings(data_dir=tmp_path / "data")
    before = _tree_digest(project / "nlu_data")

    written = add_training_example(settings.staff_nlu_file, "ask_fee", EXAMPLE, project_root=project)

    assert written == tmp_path / "data" / "nlu" / "from_staff.yml"
    data = yaml.safe_load(written.read_text(encoding="utf-8"))
    assert data["nlu"] == [{"intent": "ask_fee", "examples": f"- {EXAMPLE}\n"}]
    assert _tree_digest(project / "nlu_data") == before


def test_an_example_already_in_the_checkout_or_the_staff_file_is_refused(tmp_path):
    project = _project(tmp_path)
    staff_file = Settings(data_dir=tmp_path / "data").staff_nlu_file
    with pytest.raises(ReviewError, match="đã có"):
        add_training_example(staff_file, "greet", _first_checkout_example().upper(), project_root=project)
    assert not staff_file.exists()
    add_training_example(staff_file, "ask_fee", EXAMPLE, project_root=project)
    with pytest.raises(ReviewError, match="đã có"):
        add_training_example(staff_file, "greet", EXAMPLE, project_root=project)
    with pytest.raises(ReviewError, match="không có trong domain"):
        add_training_example(staff_file, "khong_co", "một câu khác hẳn", project_root=project)


def test_staff_examples_change_the_fingerprint_by_content_wherever_the_data_directory_is(tmp_path):
    project = _project(tmp_path)
    first, second = Settings(data_dir=tmp_path / "one"), Settings(data_dir=tmp_path / "two")
    without = training_fingerprint(project)
    assert training_fingerprint(project, first.staff_nlu_file) == without
    assert training_data(project, first.staff_nlu_file) == [project / "nlu_data"]

    for settings in (first, second):
        add_training_example(settings.staff_nlu_file, "ask_fee", EXAMPLE, project_root=project)
    assert training_data(project, first.staff_nlu_file) == [project / "nlu_data", first.staff_nlu_file]
    with_examples = training_fingerprint(project, first.staff_nlu_file)
    assert with_examples != without
    assert training_fingerprint(project, second.staff_nlu_file) == with_examples


class _Recorded(Exception):
    """Stops a training once its command is seen."""


def _recording(commands: list[list[str]]):
    def run(command, *args, **kwargs):
        commands.append([str(part) for part in command])
        raise _Recorded

    return run


def test_both_trainings_pass_the_staff_examples_to_rasa(tmp_path, monkeypatch):
    project = _project(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models")
    add_training_example(settings.staff_nlu_file, "ask_fee", EXAMPLE, project_root=project)
    commands: list[list[str]] = []
    monkeypatch.setattr(runtime, "rasa_executable", lambda: Path("rasa"))
    monkeypatch.setattr(training, "rasa_executable", lambda: Path("rasa"))
    monkeypatch.setattr(runtime.subprocess, "run", _recording(commands))
    monkeypatch.setattr(training.subprocess, "Popen", _recording(commands))

    with pytest.raises(_Recorded):
        ensure_model(settings, echo=lambda _line: None)
    with pytest.raises(_Recorded):
        training._train(settings, project, "f" * 16, tmp_path / "out", print)

    for command, root in zip(commands, (ROOT, project), strict=True):
        data = command[command.index("--data") + 1:command.index("--config")]
        assert data == [str(root / "nlu_data"), str(settings.staff_nlu_file)]

