"""Fit the legal abstention model (``LEGAL_CONFIDENCE_WEIGHTS``) and choose ``LEGAL_POLICY`` on the
tuning half of ``tests/data`` only.

The same job as :mod:`retrieval.dev.confidence_fit`, for legal articles. Until now the legal model
was fitted on the *shared* legal questions (``retrieval/dev/legal_tune.py``) to say «the library
answers at all»; what the assistant does with it is answer, offer two or three articles by title, or
abstain, so here it is fitted to say just that: *is a gold article among the first three distinct
articles?* (a question about law outside the library is a 0). A logistic regression (L2, features
unscaled, Newton's method) over :func:`retrieval.abstention.legal_features` of the best article. Run::

    MOTCUA_DATA_DIR=/tmp/evaldeploy .venvs/app/bin/python -m retrieval.dev.legal_confidence_fit \\
        /tmp/evalsets/legal_tune.jsonl --out /tmp/exp/legal_conf.json

Rows: each tune question as written and without diacritics, searched as the deployment searches
(``search_passages`` on ``analyze_legal``, one hit an article as ``rank_passages`` +
``distinct_articles``). The tune half has few questions about law outside the library (16), so the
model may also be fitted (never measured) on extra negatives: ALQAC 2023 statements whose law is
outside the library (``../shared/data/legal/alqac2023``, as the old fit) and off-topic messages
written here (:data:`OFF_TOPIC`), with a total weight of a share of the tune rows.

Feature sets, L2, the extras' share and whether the policy's answer model is fitted
(``decision_tune.fit_answer_model``) are compared by four folds **by article**: on three folds the
model is fitted and the policy chosen (``decision_tune.choose`` over ``decision_tune.policies(3)``),
on the fourth both are measured; a setting's merit is the summed shortfall of the pooled figures
from ``LEGAL_TARGETS`` on both spellings. Today's model (today's weights, the policy chosen on three
folds) is measured the same way. The policy choice is replayed with numpy (thousands of policies
per fold) and checked against ``decision_tune.choose`` / ``figures``. The held-out half is never
read here.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from retrieval import legal_ranking
from retrieval.decision import DecisionPolicy, answer_certainty, distinct_articles
from retrieval.dev import deployment_service
from retrieval.dev.decision_tune import (
    LEGAL_TARGETS,
    Ranked,
    _key_score,
    choose,
    figures,
    fit_answer_model,
    folds_of,
    policies,
    read_lines,
    shortfall,
)
from retrieval.hybrid import passage_hits
from retrieval.normalize import strip_diacritics

FEATURES = tuple(legal_ranking.LEGAL_CONFIDENCE_WEIGHTS)  # today's eight
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "eight (today's)": FEATURES,
    "seven: no query_terms": tuple(f for f in FEATURES if f != "query_terms"),
    "six: no document_agreement, disagreement": tuple(
        f for f in FEATURES if f not in ("document_agreement", "disagreement")),
    "five: scores and coverages": ("score", "margin", "text_coverage", "title_coverage_idf", "query_coverage"),
    "four: score, margin, text/title coverage": ("score", "margin", "text_coverage", "title_coverage_idf"),
    "three: score, text/title coverage": ("score", "text_coverage", "title_coverage_idf"),
}
L2S = (1.0, 5.0)
EXTRA_SHARES = (0.0, 0.25, 1.0)  # total weight of the extra negatives / tune rows fitted on
OFFERED = 3  # articles a citizen is offered (LEGAL_POLICY.max_choices)
DEPTH = 10  # hits kept per question (as decision_tune.collect)
MAX_CHOICES = 3
HALVES = ("as_written", "without_diacritics")
TODAY = "today's model"

# ALQAC laws the library holds (or overlaps): their statements are not negatives (as legal_tune).
LIBRARY_LAWS = ("Luật Cư trú", "Luật Hôn nhân và gia đình", "Bộ Luật Dân sự", "Luật Phòng, chống bạo lực gia đình")

# Messages that reach a commune centre's chat and are about no law at all: greetings, the centre's
# own logistics, everyday errands, small talk, noise. Written for this script (fit-only negatives).
OFF_TOPIC = (
    "chào bạn nhé",
    "alo có ai trực không ạ",
    "cảm ơn ad nhiều lắm",
    "ok em hiểu rồi, thanks",
    "chiều nay mấy giờ trung tâm mở cửa lại",
    "cho mình xin số điện thoại cán bộ tiếp dân",
    "chỗ để xe máy ở đâu vậy",
    "máy in ở quầy số 3 bị kẹt giấy rồi",
    "khu này hôm nay có cắt điện không",
    "cuối tuần này trời có mưa không",
    "tối nay nên ăn gì cho ngon",
    "tỉ số trận bóng tối qua là mấy",
    "mua điện thoại trả góp chỗ nào rẻ",
    "cách nấu canh chua cá lóc",
    "dạo này bài hát nào đang nổi",
    "nhà thuốc nào gần đây mở cả đêm",
    "bé nhà mình 2 tháng tuổi thì tiêm mũi gì",
    "xe buýt số mấy chạy ra bến xe miền tây",
    "giá đô la hôm nay bao nhiêu",
    "học tiếng anh online chỗ nào tốt",
    "con mèo nhà em bỏ ăn hai hôm rồi",
    "đau đầu quá uống thuốc gì cho nhanh khỏi",
    "ở đây có wifi không ạ",
    "nhà vệ sinh ở tầng mấy",
    "bạn là người thật hay là máy vậy",
    "kể cho tôi nghe một chuyện cười đi",
    "hello, can you speak english",
    "what time do you close today",
    "ban ten gi vay",
    "hom nay la thu may",
    "ad oi gan day co quan cafe nao yen tinh ko",
    "minh dang buon qua muon noi chuyen chut",
    "test thử cái",
    "asdfgh",
    "??",
    "xăng tuần này tăng hay giảm giá",
    "đặt vé máy bay đi đà nẵng thế nào cho rẻ",
    "sửa tủ lạnh ở đâu uy tín",
    "gửi tiết kiệm ngân hàng nào lãi cao nhất",
    "kết quả xổ số miền nam chiều nay",
    "cách làm bánh flan không bị rỗ",
    "em quên mang kính, chữ trên màn hình to lên được không",
)


@dataclass
class Row:
    ranked: Ranked  # group = the article key ("" outside the library), gold = {(number, article)}
    features: dict[str, float]
    half: str  # as_written / without_diacritics / extra


def label(row: Row) -> float:
    shown = {key for key, _ in row.ranked.hits[:OFFERED]}
    return float(bool(row.ranked.gold & shown))


def search(index, group, text: str) -> tuple[list, dict[str, float], float]:
    """The deployment's path: ``rank_passages`` (on=None) + ``distinct_articles``, keeping the features."""
    base = index.analyzer.analyze(text)
    vector = index.embedder.embed_queries([base.dense_text])[0]
    result = index.search_passages(group, index.analyzer.analyze_legal(text, base), vector, None)
    if result is None:
        return [], {f: 0.0 for f in FEATURES}, 0.0
    hits = passage_hits(group, result, DEPTH, sum(index.legal_weights.values()))
    hits = distinct_articles(hits)
    return [_key_score(h) for h in hits[:DEPTH]], dict(result.features), result.confidence


def collect(index, lines: Sequence[dict]) -> dict[str, list[Row]]:
    group = index.group("passages")
    out: dict[str, list[Row]] = {h: [] for h in HALVES}
    for line in lines:
        gold = frozenset((g["number"], str(g["article"])) for g in line.get("gold") or () if g.get("article"))
        name = "|".join(sorted(f"{a}#{b}" for a, b in gold))
        for half, text in zip(HALVES, (line["question"], strip_diacritics(line["question"])), strict=True):
            hits, features, confidence = search(index, group, text)
            out[half].append(Row(Ranked(name, gold, hits, confidence), features, half))
    return out


def read_alqac_negatives(alqac_dir: Path) -> list[str]:
    """ALQAC 2023 statements / questions whose gold law is outside the library."""
    out: list[str] = []
    for name, text_key, gold_key in (("train.json", "statement", "legal_passages"),
                                     ("test.json", "statement", "legal_passages"),
                                     ("raw_train_v1.json", "text", "relevant_articles")):
        path = alqac_dir / name
        if not path.exists():
            continue
        for item in json.loads(path.read_text(encoding="utf-8")):
            laws = [str(g["law_id"]) for g in item.get(gold_key) or ()]
            if laws and not any(law.startswith(LIBRARY_LAWS) for law in laws):
                out.append(str(item[text_key]))
    return list(dict.fromkeys(out))


def collect_extras(index, texts: Sequence[str]) -> list[Row]:
    """Each extra negative as written and without diacritics (both when they differ)."""
    group = index.group("passages")
    rows = []
    for text in texts:
        for variant in dict.fromkeys((text, strip_diacritics(text))):
            hits, features, confidence = search(index, group, variant)
            rows.append(Row(Ranked("", frozenset(), hits, confidence), features, "extra"))
    return rows


# -- the confidence model -------------------------------------------------------------------------


def fit(rows: Sequence[Row], names: Sequence[str], l2: float, extras: Sequence[Row] = (),
        share: float = 0.0) -> tuple[dict[str, float], float]:
    """Weighted L2 logistic regression by Newton's method: tune rows weigh 1 each, the extras
    together ``share`` × the number of tune rows. Loss = Σ weight·log-loss + l2/2·|w|² (no bias)."""
    use = list(rows) + (list(extras) if share > 0 else [])
    x = np.array([[1.0] + [r.features[n] for n in names] for r in use])
    y = np.array([label(r) for r in use])
    s = np.ones(len(use))
    if share > 0 and extras:
        s[len(rows):] = share * len(rows) / len(extras)
    reg = np.r_[0.0, np.full(len(names), l2)]
    w = np.zeros(x.shape[1])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -50, 50)))
        gradient = x.T @ (s * (p - y)) + reg * w
        hessian = (x * (s * p * (1 - p))[:, None]).T @ x + np.diag(reg) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return {n: round(float(v), 3) for n, v in zip(names, w[1:], strict=True)}, round(float(w[0]), 3)


def confidences(rows: Sequence[Row], weights: dict[str, float] | None, bias: float | None) -> list[float]:
    """``None``: the confidence the deployment computed (today's model)."""
    if weights is None:
        return [r.ranked.confidence for r in rows]
    return [legal_ranking.legal_confidence(r.features, weights, bias) for r in rows]


# -- the policy, replayed with numpy ---------------------------------------------------------------

STEPS = np.array(sorted({p.answer_at for p in policies(MAX_CHOICES)}))
FLOORS = tuple(sorted({p.choice_floor for p in policies(MAX_CHOICES)}))


class Half:
    """What any policy needs about a set of rows (one spelling)."""

    def __init__(self, rows: Sequence[Ranked]):
        self.rows = list(rows)
        self.answerable = np.array([bool(r.gold) for r in rows])
        self.n_hits = np.array([len(r.hits) for r in rows])
        self.top_right = np.array([bool(r.hits) and r.hits[0][0] in r.gold for r in rows])
        self.offer_right = {}
        for floor in FLOORS:  # decide()'s choices: hits[:max] above floor·top, at least min_choices
            right = []
            for r in rows:
                top = r.hits[0][1] if r.hits else 0.0
                choices = [h for h in r.hits[:MAX_CHOICES] if h[1] >= floor * top]
                if len(choices) < 2:
                    choices = list(r.hits[:2])
                right.append(bool({k for k, _ in choices} & r.gold))
            self.offer_right[floor] = np.array(right)

    def counts(self, confidence: np.ndarray, certainty: np.ndarray) -> dict[str, np.ndarray]:
        """Counts of every policy of the grid, shape (answer_at, offer_at, floor)."""
        abstain = (self.n_hits == 0)[None, :] | (confidence[None, :] < STEPS[:, None])  # (O, R)
        sure = (certainty[None, :] >= STEPS[:, None]) | (self.n_hits == 1)[None, :]  # (A, R)
        answer = ~abstain[None, :, :] & sure[:, None, :]  # (A, O, R)
        offer = ~abstain[None, :, :] & ~answer
        ans = self.answerable
        resolved = np.stack([((answer & self.top_right) | (offer & self.offer_right[f]))[:, :, ans].sum(-1)
                             for f in FLOORS], axis=-1)
        wrong = (answer & ~self.top_right)[:, :, ans].sum(-1)
        shape = resolved.shape
        return {
            "resolved": resolved,
            "wrong": np.broadcast_to(wrong[:, :, None], shape),
            "offered": np.broadcast_to(offer.sum(-1)[:, :, None], shape),
            "abstained": np.broadcast_to(abstain[:, ans].sum(-1)[None, :, None], shape),
            "outside_abstained": np.broadcast_to(abstain[:, ~ans].sum(-1)[None, :, None], shape),
        }

    def grid_figures(self, confidence: Sequence[float], model: tuple) -> dict[str, np.ndarray]:
        """decision_tune.figures of every policy of ``policies(MAX_CHOICES, model)``, flattened in its order."""
        conf = np.array(confidence, dtype=np.float64)
        cert = np.array([answer_certainty([s for _, s in r.hits[:2]], c, model) for r, c in zip(self.rows, conf,
                                                                                                  strict=True)])
        c = self.counts(conf, cert)
        answerable = int(self.answerable.sum())
        outside = len(self.rows) - answerable
        out = {
            "resolved": c["resolved"] / max(answerable, 1),
            "wrong_answer": c["wrong"] / max(answerable, 1),
            "offered": c["offered"] / max(len(self.rows), 1),
            "answerable_abstained": c["abstained"] / max(answerable, 1),
            "abstention_recall": c["outside_abstained"] / max(outside, 1),
        }
        return {k: np.asarray(v, dtype=np.float64).reshape(-1) for k, v in out.items()}


def grid_shortfall(f: dict[str, np.ndarray]) -> np.ndarray:
    """decision_tune.shortfall, term by term in the same order (so the floats are the same)."""
    ceilings = {"wrong_answer", "offered", "answerable_abstained"}
    total = np.zeros_like(f["resolved"])
    for k, v in LEGAL_TARGETS.items():
        total = total + (np.maximum(0.0, f[k] - v) if k in ceilings else np.maximum(0.0, v - f[k]))
    return total


def fast_choose(halves: dict[str, Half], conf: dict[str, list[float]], model: tuple) -> int:
    """Index in ``policies(MAX_CHOICES, model)`` of decision_tune.choose's pick (first of the best)."""
    both = [halves[h].grid_figures(conf[h], model) for h in HALVES]
    m1 = -(0 + grid_shortfall(both[0]) + grid_shortfall(both[1]))
    m2 = 0 + (both[0]["resolved"] - both[0]["wrong_answer"]) + (both[1]["resolved"] - both[1]["wrong_answer"])
    m3 = -(0 + both[0]["offered"] + both[1]["offered"])
    keep = m1 == m1.max()
    for m in (m2, m3):
        keep &= m == np.where(keep, m, -np.inf).max()
    return int(np.argmax(keep))


def with_conf(rows: Sequence[Row], conf: Sequence[float]) -> list[Ranked]:
    return [replace(r.ranked, confidence=float(c)) for r, c in zip(rows, conf, strict=True)]


def pooled_figures(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, float]]:
    out = {}
    for h, c in counts.items():
        a, n = c["answerable"], c["rows"]
        out[h] = {"resolved": c["resolved"] / max(a, 1), "wrong_answer": c["wrong"] / max(a, 1),
                  "offered": c["offered"] / max(n, 1), "answerable_abstained": c["abstained"] / max(a, 1),
                  "abstention_recall": c["outside_abstained"] / max(n - a, 1)}
        out[h] = {k: round(v, 3) for k, v in out[h].items()}
    return out


def add_counts(total: dict[str, int], rows: Sequence[Ranked], policy: DecisionPolicy) -> None:
    """Counts of one test fold under ``policy`` (decision_tune.figures, as integers)."""
    from retrieval.decision import decide

    for row in rows:
        d = decide(row.hits, row.confidence, policy, score=lambda h: h[1])
        shown = {k for k, _ in d.hits}
        total["rows"] += 1
        total["offered"] += d.move == "offer"
        if row.gold:
            total["answerable"] += 1
            total["abstained"] += d.move == "abstain"
            total["resolved"] += d.move != "abstain" and bool(shown & row.gold)
            total["wrong"] += d.move == "answer" and not shown & row.gold
        else:
            total["outside_abstained"] += d.move == "abstain"


@dataclass(frozen=True)
class Setting:
    names: tuple[str, ...] | None  # None: today's model
    l2: float = 0.0
    share: float = 0.0
    answer_model: bool = False

    def describe(self) -> str:
        model = "answer model fitted" if self.answer_model else "confidence only"
        if self.names is None:
            return f"{TODAY} / {model}"
        label_ = next((k for k, v in FEATURE_SETS.items() if v == self.names), ",".join(self.names))
        return f"{label_} / L2 {self.l2:g} / extras {self.share:g} / {model}"


def fit_and_choose(setting: Setting, train: dict[str, list[Row]], extras: Sequence[Row]):
    """The confidence model (fitted on ``train`` + extras), the answer model and the chosen policy."""
    if setting.names is None:
        weights, bias = None, None
    else:
        weights, bias = fit([r for h in HALVES for r in train[h]], setting.names, setting.l2, extras, setting.share)
    conf = {h: confidences(train[h], weights, bias) for h in HALVES}
    model = (0.0, 1.0, 0.0, 0.0)
    if setting.answer_model:
        model = fit_answer_model([x for h in HALVES for x in with_conf(train[h], conf[h])])
    halves = {h: Half([r.ranked for r in train[h]]) for h in HALVES}
    policy = policies(MAX_CHOICES, model)[fast_choose(halves, conf, model)]
    return weights, bias, policy


def cross_validate(setting: Setting, sets: dict[str, list[Row]], extras: Sequence[Row], k: int = 4) -> dict:
    fold = folds_of([r.ranked for r in sets["as_written"]], k)
    counts = {h: dict.fromkeys(("rows", "answerable", "resolved", "wrong", "offered", "abstained",
                                "outside_abstained"), 0) for h in HALVES}
    chosen = []
    for f in range(k):
        train = {h: [r for r, x in zip(sets[h], fold, strict=True) if x != f] for h in HALVES}
        test = {h: [r for r, x in zip(sets[h], fold, strict=True) if x == f] for h in HALVES}
        weights, bias, policy = fit_and_choose(setting, train, extras)
        chosen.append({"answer_at": policy.answer_at, "offer_at": policy.offer_at,
                       "choice_floor": policy.choice_floor, "answer_model": policy.answer_model,
                       **({"weights": weights, "bias": bias} if weights is not None else {})})
        for h in HALVES:
            add_counts(counts[h], with_conf(test[h], confidences(test[h], weights, bias)), policy)
    pooled = pooled_figures(counts)
    merit = sum(shortfall(f, LEGAL_TARGETS) for f in pooled.values())
    return {"merit_shortfall": round(merit, 4),
            "resolved_minus_wrong": round(sum(f["resolved"] - f["wrong_answer"] for f in pooled.values()), 4),
            "figures": pooled, "fold_policies": chosen,
            "fold_sizes": [sum(x == f for x in fold) for f in range(k)]}


def check_fast_path(sets: dict[str, list[Row]], models: Sequence[tuple]) -> dict:
    """The numpy replay against decision_tune.figures / choose on the whole tune half."""
    conf = {h: confidences(sets[h], None, None) for h in HALVES}
    halves = {h: Half([r.ranked for r in sets[h]]) for h in HALVES}
    ranked = {h: [r.ranked for r in sets[h]] for h in HALVES}
    differ, checked, choices = 0, 0, []
    for model in models:
        grid = policies(MAX_CHOICES, model)
        fast = {h: halves[h].grid_figures(conf[h], model) for h in HALVES}
        for i in random.Random(11).sample(range(len(grid)), 60):
            for h in HALVES:
                slow = figures(ranked[h], grid[i])
                checked += 1
                differ += any(abs(slow[key] - fast[h][key][i]) > 1e-12 for key in slow)
        slow_choice = choose(ranked, grid, LEGAL_TARGETS)
        fast_choice = grid[fast_choose(halves, conf, model)]
        choices.append({"model": model, "same": slow_choice == fast_choice, "slow": slow_choice.__dict__,
                        "fast": fast_choice.__dict__})
    return {"figures_checked": checked, "figures_differ": differ, "choices": choices}


def main() -> None:
    from retrieval.decision import LEGAL_POLICY

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", type=Path, help="the legal tune half (jsonl; gold articles, outside ones)")
    parser.add_argument("--alqac", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data"
                        / "legal" / "alqac2023", help="ALQAC 2023 data (extra negatives, fitting only)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/legal_confidence_fit.json"))
    args = parser.parse_args()
    started = time.perf_counter()
    service = deployment_service()
    index = service.index
    built = time.perf_counter()
    lines = read_lines(args.questions)
    if any(line.get("split") not in (None, "tune") for line in lines):
        raise SystemExit("only the tune half is read here")
    sets = collect(index, lines)
    alqac = read_alqac_negatives(args.alqac)
    extras = collect_extras(index, alqac + list(OFF_TOPIC))
    collected = time.perf_counter()
    n_out = sum(not r.ranked.gold for r in sets["as_written"])
    positives = {h: int(sum(label(r) for r in sets[h])) for h in HALVES}
    print(f"index built in {built - started:.0f} s; {len(lines)} tune questions ({n_out} outside the library), "
          f"labelled 1 (gold among the first {OFFERED}): {positives}; extra negatives: {len(alqac)} ALQAC + "
          f"{len(OFF_TOPIC)} off-topic → {len(extras)} rows; collected in {collected - built:.0f} s", flush=True)

    # sanity: the confidence kept is today's model on the features kept
    drift = max(abs(legal_ranking.legal_confidence(r.features) - r.ranked.confidence) for h in HALVES for r in sets[h])
    ranked = {h: [r.ranked for r in sets[h]] for h in HALVES}
    today_in_sample = {h: {k: round(v, 4) for k, v in figures(ranked[h], LEGAL_POLICY).items()} for h in HALVES}
    print(f"today's model + LEGAL_POLICY on the whole tune half (in sample): {json.dumps(today_in_sample)}; "
          f"confidence recomputed from features differs by ≤ {drift:.2e}", flush=True)
    check = check_fast_path(sets, [(0.0, 1.0, 0.0, 0.0), LEGAL_POLICY.answer_model])
    print(f"fast replay check: {check['figures_differ']} of {check['figures_checked']} figure sets differ; "
          f"choice same: {[c['same'] for c in check['choices']]}", flush=True)

    settings_list = [Setting(None, answer_model=a) for a in (False, True)]
    settings_list += [Setting(names, l2, share, a) for names in FEATURE_SETS.values() for l2 in L2S
                      for share in EXTRA_SHARES for a in (False, True)]
    results: dict[str, dict] = {}
    t0 = time.perf_counter()
    for setting in settings_list:
        cv = cross_validate(setting, sets, extras)
        results[setting.describe()] = {"setting": setting.__dict__, **cv}
        fold_policies = [(p["answer_at"], p["offer_at"], p["choice_floor"]) for p in cv["fold_policies"]]
        print(f"{setting.describe():85} shortfall {cv['merit_shortfall']:.3f}  {json.dumps(cv['figures'])}  "
              f"{fold_policies}", flush=True)
    cv_seconds = time.perf_counter() - t0

    def rank_key(name: str) -> tuple:
        r = results[name]
        return (r["merit_shortfall"], -r["resolved_minus_wrong"])

    fitted = [n for n in results if not n.startswith(TODAY)]
    order = sorted(fitted, key=rank_key)
    print("\nbest by cross-validated shortfall:")
    for name in order[:10]:
        print(f"  {results[name]['merit_shortfall']:.3f}  {name}")
    best = order[0]
    setting = Setting(**results[best]["setting"])
    weights, bias, policy = fit_and_choose(setting, sets, extras)
    conf = {h: confidences(sets[h], weights, bias) for h in HALVES}
    tune_figures = {h: {k: round(v, 4) for k, v in figures(with_conf(sets[h], conf[h]), policy).items()}
                    for h in HALVES}
    extra_conf = confidences(extras, weights, bias)
    final = {
        "setting": best,
        "weights": weights,
        "bias": bias,
        "policy": policy.__dict__,
        "tune_figures_in_sample": tune_figures,
        "tune_outside_abstention_recall_in_sample": {h: tune_figures[h]["abstention_recall"] for h in HALVES},
        "extras_abstained_in_sample": round(float(np.mean([c < policy.offer_at for c in extra_conf])), 4),
        "cross_validated": results[best]["figures"],
        "today_cross_validated": {n: results[n]["figures"] for n in results if n.startswith(TODAY)},
    }
    print(json.dumps(final, indent=1, ensure_ascii=False))
    total = time.perf_counter() - started
    print(f"run time {total:.0f} s (index {built - started:.0f}, collect {collected - built:.0f}, "
          f"cross-validation {cv_seconds:.0f})")
    payload = {
        "questions": {"tune": len(lines), "outside_library": n_out, "labelled_positive": positives,
                      "extra_negatives": {"alqac": len(alqac), "off_topic": len(OFF_TOPIC), "rows": len(extras)}},
        "targets": LEGAL_TARGETS,
        "today": {"weights": legal_ranking.LEGAL_CONFIDENCE_WEIGHTS, "bias": legal_ranking.LEGAL_CONFIDENCE_BIAS,
                  "policy": LEGAL_POLICY.__dict__, "in_sample": today_in_sample},
        "fast_replay_check": check,
        "cross_validation": results,
        "ranking": [(n, results[n]["merit_shortfall"]) for n in order],
        "chosen": final,
        "seconds": {"index": round(built - started), "collect": round(collected - built),
                    "cross_validation": round(cv_seconds), "total": round(total)},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=1, ensure_ascii=False,
                                   default=lambda x: round(x, 4) if isinstance(x, float) else str(x)) + "\n",
                        encoding="utf-8")


if __name__ == "__main__":
    main()
