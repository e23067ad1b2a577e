"""Evaluating the Rasa project: data validation, story tests, the held-out NLU set.

Each function runs Rasa's own command from the Rasa environment and reads the
reports it writes; :func:`write_nlu_report` keeps the figures and the most
frequent confusions under ``reports/``.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from motcua.runtime import rasa_environment, rasa_executable
from motcua.settings import ROOT, Settings
from retrieval.normalize import strip_diacritics

HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
UNSEEN = ROOT / "tests" / "nlu" / "unseen"  # one file an author, written apart from nlu_data/
NLU_DATA = ROOT / "nlu_data"
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\((\w+)\)|\{[^}]*\"entity\":\s*\"(\w+)\"[^}]*\})")
NEAR_COPY = 0.85  # word-level similarity from which a sentence counts as a copy of a training one
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


# -- the unseen set: written by separate authors who never saw nlu_data/ --------------------------


def plain_text(example: str) -> str:
    """The sentence without its entity annotations."""
    return ANNOTATION.sub(lambda m: m.group(1), example)


def _words(example: str) -> list[str]:
    return re.sub(r"[^\w ]", " ", strip_diacritics(plain_text(example).lower())).split()


def read_examples(path: Path) -> list[tuple[str, str]]:
    """``(intent, annotated example)`` of a Rasa NLU YAML file."""
    import yaml

    blocks = yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []
    return [(b["intent"], line[2:]) for b in blocks if "intent" in b
            for line in b["examples"].splitlines() if line.startswith("- ")]


def training_examples() -> list[tuple[str, str]]:
    return [e for path in sorted(NLU_DATA.glob("nlu_*.yml")) for e in read_examples(path)]


def near_copies(examples: list[str], training: list[str], threshold: float = NEAR_COPY) -> set[str]:
    """The examples whose words (diacritics and punctuation aside) are ≥ ``threshold`` alike a training
    sentence's: «hello», «ok», «chào ad» are written by anyone, so they say little about unseen text."""
    train_words = [_words(t) for t in training]
    copies = set()
    for example in examples:
        matcher = difflib.SequenceMatcher(None, b=_words(example))
        for other in train_words:
            matcher.set_seq1(other)
            if matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold \
                    and matcher.ratio() >= threshold:
                copies.add(example)
                break
    return copies


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    """Macro-averaged F1 over the true intents of ``(true, predicted)`` pairs."""
    labels = sorted({t for t, _ in pairs})
    scores = []
    for label in labels:
        tp = sum(t == label and p == label for t, p in pairs)
        fp = sum(t != label and p == label for t, p in pairs)
        fn = sum(t == label and p != label for t, p in pairs)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return round(sum(scores) / len(scores), 4) if scores else 0.0


@dataclass
class UnseenReport:
    """Intent figures on the unseen set: all of it, per author, and without near-copies of training."""

    utterances: int
    intent_macro_f1: float
    accuracy: float
    by_author: dict[str, dict[str, float]]
    distinct: dict[str, float]  # the sentences not near any training sentence
    confusions: list[tuple[str, str, int]] = field(default_factory=list)


def evaluate_unseen(settings: Settings, model: Path, out: Path, directory: Path = UNSEEN) -> UnseenReport:
    """Run ``rasa test nlu`` once on the directory of every author's file and score the intents, in all
    and per author (a sentence's author is the file it is written in)."""
    files = sorted(directory.glob("*.yml"))
    if not files:
        raise FileNotFoundError(f"no unseen NLU files in {directory}")
    author_of: dict[tuple[str, str], str] = {}
    for path in files:
        for intent, example in read_examples(path):
            author_of[(intent, plain_text(example).strip())] = path.stem
    result = _run_rasa(["test", "nlu", "--nlu", str(directory), "--model", str(model), "--out", str(out),
                        "--no-plot", "--successes"], settings)
    predictions = []
    for name in ("intent_successes.json", "intent_errors.json"):
        report = out / name
        if report.exists():
            predictions += json.loads(report.read_text())
    if not predictions:
        raise RuntimeError(f"rasa test nlu wrote no predictions for {directory}:\n{result.output[-3000:]}")
    pairs_by_text: dict[tuple[str, str], str] = {}
    for p in predictions:
        pairs_by_text[(p["intent"], p["text"].strip())] = p["intent_prediction"]["name"] or ""
    training = [plain_text(e) for _, e in training_examples()]
    copies = near_copies([text for _, text in pairs_by_text], training)
    rows = [(author_of.get(key, "?"), key[0], predicted, key[1] in copies) for key, predicted in pairs_by_text.items()]
    pairs = [(t, p) for _, t, p, _ in rows]
    by_author = {}
    for author in sorted({a for a, *_ in rows}):
        mine = [(t, p) for a, t, p, _ in rows if a == author]
        by_author[author] = {"utterances": len(mine), "intent_macro_f1": macro_f1(mine)}
    distinct = [(t, p) for _, t, p, copy in rows if not copy]
    confusions = Counter((t, p) for t, p in pairs if t != p)
    return UnseenReport(
        utterances=len(pairs), intent_macro_f1=macro_f1(pairs),
        accuracy=round(sum(t == p for t, p in pairs) / max(len(pairs), 1), 4), by_author=by_author,
        distinct={"utterances": len(distinct), "intent_macro_f1": macro_f1(distinct),
                  "accuracy": round(sum(t == p for t, p in distinct) / max(len(distinct), 1), 4)},
        confusions=[(t, p, n) for (t, p), n in confusions.most_common(15)])


def write_unseen_report(report: UnseenReport, directory: Path = ROOT / "reports") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "nlu_unseen.json").write_text(json.dumps(asdict(report), indent=2, ensure_ascii=False) + "\n")
    lines = ["# NLU on unseen text (tests/nlu/unseen/, written apart from nlu_data/)", "",
             f"- utterances: {report.utterances}, intent macro-F1: **{report.intent_macro_f1}** (target ≥ 0.90), "
             f"accuracy {report.accuracy}",
             f"- without the {report.utterances - int(report.distinct['utterances'])} sentences near a training one "
             f"(≥ {NEAR_COPY} alike): {int(report.distinct['utterances'])} utterances, macro-F1 "
             f"**{report.distinct['intent_macro_f1']}**, accuracy {report.distinct['accuracy']}"]
    lines += [f"- {author}: {int(f['utterances'])} utterances, macro-F1 {f['intent_macro_f1']}"
              for author, f in report.by_author.items()]
    lines += ["", "## Confusions (true → predicted: count)", ""]
    lines += [f"- {t} → {p}: {n}" for t, p, n in report.confusions] or ["- none"]
    path = directory / "nlu_unseen.md"
    path.write_text("\n".join(lines) + "\n")
    return path
