"""Would searching a procedure's every name help? Measured on the tuning half by folds by procedure.

A procedure has an official title and, for the commune procedures, an everyday name and aliases
(``knowledge_base/everyday_names/``). Today the title is embedded alone and the aliases only inside
the summary. Two candidate signals read each name on its own:

- ``dense_names``: the best cosine between the question and any one name (title or alias);
- ``names_coverage``: the best share of one name's content syllables found in the question.

Each question (as written and without diacritics) is embedded once; a weighting is a few numpy sums,
judged like ``fusion_cv`` (hit@1 + recall@4), chosen on three folds by procedure and measured on the
fourth. Nothing is written into the code: this only says whether the signals earn a place. Run::

    MOTCUA_DATA_DIR=/tmp/evaldeploy .venvs/app/bin/python -m retrieval.dev.names_cv /tmp/proc_tune.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from retrieval import fusion
from retrieval.dev import deployment_service
from retrieval.dev.decision_tune import Ranked, folds_of, read_lines
from retrieval.dev.fusion_cv import merit
from retrieval.fusion import GroupResult
from retrieval.groups import DocumentGroup
from retrieval.hybrid import FUSION_WEIGHTS, LEVEL_BOOST, HybridIndex, procedure_hits
from retrieval.lexicon import ACRONYMS
from retrieval.normalize import expand_shorthand, is_stopword, strip_diacritics, tokenize_syllables

GRID = {
    "dense_names": (0.0, 0.5, 1.0, 2.0),
    "names_coverage": (0.0, 1.0, 2.0, 3.0, 4.0),
    "dense_title": (0.0, 0.5),
    "title_coverage": (0.0, 0.5, 1.0),
    "dense_summary": (2.0, 3.0),
    "full_accented": (2.0, 3.0),
}


class Names:
    """Every name of every procedure of a group, embedded one by one, with their content syllables."""

    def __init__(self, index: HybridIndex, group: DocumentGroup):
        owners, texts = [], []
        for position, document in enumerate(group.documents):
            if document.kind != "procedure":
                continue
            names = [document.title, *(str(a) for a in document.fields.get("aliases") or ())]
            for name in dict.fromkeys(n.strip() for n in names if n and n.strip()):
                owners.append(position)
                texts.append(name)
        self.size = len(group)
        self.owners = np.array(owners, dtype=np.int64)
        print(f"{len(texts)} names of {len(set(owners))} procedures", flush=True)
        self.vectors = np.asarray(index.embedder.embed_documents(texts), dtype=np.float32)
        vocab: dict[str, int] = {}
        rows, cols = [], []
        for row, text in enumerate(texts):
            syllables = expand_shorthand(tokenize_syllables(text), ACRONYMS)
            content = {strip_diacritics(s) for s in syllables if not is_stopword(s)}
            for term in content:
                rows.append(row)
                cols.append(vocab.setdefault(term, len(vocab)))
        self.vocab = vocab
        self.matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                                    shape=(len(texts), max(len(vocab), 1)))
        self.lengths = np.asarray(self.matrix.sum(axis=1), dtype=np.float32).ravel() + 1e-6

    def _best(self, values: np.ndarray, floor: float) -> np.ndarray:
        out = np.full(self.size, floor, dtype=np.float32)
        np.maximum.at(out, self.owners, values.astype(np.float32))
        return out

    def signals(self, content_bare, vector: np.ndarray) -> dict[str, np.ndarray]:
        cosines = self.vectors @ np.asarray(vector, dtype=np.float32)
        present = np.zeros(self.matrix.shape[1], dtype=np.float32)
        for term in content_bare:
            column = self.vocab.get(term)
            if column is not None:
                present[column] = 1.0
        coverage = np.asarray(self.matrix @ present, dtype=np.float32) / self.lengths
        return {"dense_names": self._best(cosines, float(cosines.min())), "names_coverage": self._best(coverage, 0.0)}


def collect(index: HybridIndex, names: Names, lines: list[dict]) -> list[tuple[Ranked, dict[str, np.ndarray]]]:
    group = index.group("procedures")
    rows = []
    for line in lines:
        gold = frozenset(line["expected"])
        if not gold:
            continue
        name = line.get("procedure") or ",".join(sorted(gold))
        for text in (line["question"], strip_diacritics(line["question"])):
            analyzed = index.analyzer.analyze(text)
            vector = index.embedder.embed_queries([analyzed.dense_text])[0]
            raw = fusion.signals(group, analyzed, vector)
            raw.update(names.signals(analyzed.content_bare, vector))
            rows.append((Ranked(name, gold, [], 0.0), raw))
    return rows


def ranks(index: HybridIndex, rows, weights: dict[str, float], level: float) -> np.ndarray:
    group = index.group("procedures")
    allowed = np.isin(group.kinds, ["procedure", "faq"])
    out = []
    for ranked, raw in rows:
        fused = np.where(allowed, fusion.fuse(raw, weights, level, group.preferred), -np.inf)
        top = np.argpartition(-fused, 60)[:60]
        order = top[np.argsort(-fused[top], kind="stable")]
        codes = [h.code for h in procedure_hits(group, GroupResult(order, fused, 1.0, {}), 20, 1.0)]
        out.append(next((i for i, c in enumerate(codes) if c in ranked.gold), 99))
    return np.array(out)


def summary(r: np.ndarray) -> dict[str, float]:
    return {"hit@1": round(float((r == 0).mean()), 4), "recall@4": round(float((r < 4).mean()), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("procedures", type=Path)
    parser.add_argument("--measure", type=Path, help="a second file measured once with each fold's choice and the all-tune choice")
    parser.add_argument("--out", type=Path, default=Path("/tmp/names_cv.json"))
    args = parser.parse_args()
    index = deployment_service().index
    group = index.group("procedures")
    names = Names(index, group)
    rows = collect(index, names, read_lines(args.procedures))
    candidates = [dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())]
    print(f"{len(rows)} rows, {len(candidates)} weightings", flush=True)
    table = np.stack([ranks(index, rows, {**FUSION_WEIGHTS, **c}, LEVEL_BOOST) for c in candidates])
    today = ranks(index, rows, FUSION_WEIGHTS, LEVEL_BOOST)
    without = [i for i, c in enumerate(candidates) if not c["dense_names"] and not c["names_coverage"]]
    fold = np.array(folds_of([r for r, _ in rows], 4))
    pooled = {"today": [], "chosen": [], "chosen_without_names": []}
    chosen = []
    for f in range(4):
        train, test = fold != f, fold == f
        best = int(np.argmax([merit(t[train]) for t in table]))
        best_without = without[int(np.argmax([merit(table[i][train]) for i in without]))]
        chosen.append(candidates[best])
        pooled["today"].append(today[test])
        pooled["chosen"].append(table[best][test])
        pooled["chosen_without_names"].append(table[best_without][test])
    best = int(np.argmax([merit(t) for t in table]))
    result = {
        "rows": len(rows),
        "today": summary(today),
        "cv": {k: summary(np.concatenate(v)) for k, v in pooled.items()},
        "fold_choices": chosen,
        "best_on_all": {"weights": candidates[best], **summary(table[best])},
    }
    if args.measure:
        measured = collect(index, names, read_lines(args.measure))
        result["measured"] = {
            "file": str(args.measure), "rows": len(measured),
            "today": summary(ranks(index, measured, FUSION_WEIGHTS, LEVEL_BOOST)),
            "best_on_all": summary(ranks(index, measured, {**FUSION_WEIGHTS, **candidates[best]}, LEVEL_BOOST)),
        }
    print(json.dumps(result, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
