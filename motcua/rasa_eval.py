"""Evaluating the Rasa project: data validation, story tests, the held-out NLU set.

Each function runs Rasa's own command from the Rasa environment and reads the
reports it writes; :func:`write_nlu_report` keeps the figures and the most
frequent confusions under ``reports/``.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from motcua.runtime import rasa_environment, rasa_executable
from motcua.settings import ROOT, Settings

HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
STORIES = ROOT / "tests" / "stories"


@dataclass
class CommandResult:
    returncode: int
    output: str


def _run_rasa(args: list[str], settings: Settings, timeout: int = 1200) -> CommandResult:
    process = subprocess.run([str(rasa_executable()), *args], cwd=ROOT, env=rasa_environment(settings),
                             capture_output=True, text=True, timeout=timeout, check=False)
    return CommandResult(process.returncode, process.stdout + process.stderr)


def validate_data(settings: Settings) -> CommandResult:
    return _run_rasa(["data", "validate", "--data", "nlu_data", "--domain", "domain.yml", "--config", "config.yml"],
                     settings)


@dataclass
class StoryReport:
    total: int
    failed: list[str]
    output: str = ""


def run_story_tests(settings: Settings, model: Path, out: Path) -> StoryReport:
    result = _run_rasa(["test", "core", "--stories", str(STORIES), "--model", str(model), "--out", str(out),
                        "--no-plot"], settings)
    if result.returncode != 0 and not (out / "story_report.json").exists():
        raise RuntimeError(f"rasa test core failed:\n{result.output[-3000:]}")
    failed_file = out / "failed_test_stories.yml"
    failed = [line.split(":", 1)[1].strip() for line in failed_file.read_text().splitlines()
              if line.strip().startswith("- story:")] if failed_file.exists() else []
    total = sum(1 for path in STORIES.glob("*.yml") for line in path.read_text().splitlines()
                if line.strip().startswith("- story:"))
    return StoryReport(total, failed, result.output[-2000:])


@dataclass
class NluReport:
    intent_macro_f1: float
    entity_f1: dict[str, float]  # micro-averaged F1 per entity extractor
    per_intent_f1: dict[str, float]
    confusions: list[tuple[str, str, int]] = field(default_factory=list)  # (true, predicted, count)
    utterances: int = 0

    @property
    def best_entity_f1(self) -> float:
        return max(self.entity_f1.values(), default=0.0)


def evaluate_nlu(settings: Settings, model: Path, out: Path, data: Path = HELDOUT) -> NluReport:
    result = _run_rasa(["test", "nlu", "--nlu", str(data), "--model", str(model), "--out", str(out),
                        "--no-plot", "--successes"], settings)
    intent_file = out / "intent_report.json"
    if not intent_file.exists():
        raise RuntimeError(f"rasa test nlu wrote no report:\n{result.output[-3000:]}")
    intents = json.loads(intent_file.read_text())
    per_intent = {name: round(v["f1-score"], 4) for name, v in intents.items()
                  if isinstance(v, dict) and "f1-score" in v and not name.endswith("avg")}
    entity_f1 = {}
    for report in out.glob("*_report.json"):
        if report.name in {"intent_report.json", "response_selection_report.json"} or "Policy" in report.name:
            continue
        data_ = json.loads(report.read_text())
        if "micro avg" in data_:
            entity_f1[report.name.removesuffix("_report.json")] = round(data_["micro avg"]["f1-score"], 4)
    errors_file = out / "intent_errors.json"
    errors = json.loads(errors_file.read_text()) if errors_file.exists() else []
    confusions = Counter((e["intent"], e["intent_prediction"]["name"]) for e in errors)
    return NluReport(round(intents["macro avg"]["f1-score"], 4), entity_f1, per_intent,
                     [(t, p, n) for (t, p), n in confusions.most_common(15)],
                     int(intents["macro avg"]["support"]))


def write_nlu_report(report: NluReport, directory: Path = ROOT / "reports") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "nlu_heldout.json").write_text(json.dumps(asdict(report), indent=2, ensure_ascii=False) + "\n")
    lines = ["# Held-out NLU evaluation (tests/nlu/heldout.yml)", "",
             f"- utterances: {report.utterances}",
             f"- intent macro-F1: **{report.intent_macro_f1}** (target ≥ 0.93)"]
    lines += [f"- entity F1 ({name}, micro): **{f1}** (target ≥ 0.90)" for name, f1 in report.entity_f1.items()]
    lines += ["", "## Confusions (true → predicted: count)", ""]
    lines += [f"- {t} → {p}: {n}" for t, p, n in report.confusions] or ["- none"]
    lines += ["", "## F1 per intent", ""] + [f"- {k}: {v}" for k, v in sorted(report.per_intent_f1.items())]
    path = directory / "nlu_heldout.md"
    path.write_text("\n".join(lines) + "\n")
    return path
