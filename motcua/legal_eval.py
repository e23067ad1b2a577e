"""``motcua eval legal``: does the search cite the gold article for a legal question?

Reads lines ``{"question": str, "gold": [{"number": "60/2014/QH13", "article": "15"}, ...]}``
and reports hit@1, hit@5 and MRR of a gold article among the cited passages (articles best
first, one passage each, as the answer cites them; ranking without abstention), and the
share of questions the answer would decline (abstained), for the questions as written and
with every diacritic removed. ``on`` is the day the questions are about (default today).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from retrieval.normalize import strip_diacritics


@dataclass(frozen=True)
class LegalQuestion:
    question: str
    gold: tuple[tuple[str, str], ...]  # (document number, article number)


@dataclass(frozen=True)
class LegalFigures:
    questions: int
    hit_at_1: float
    hit_at_5: float
    mrr: float
    abstained: float = 0.0


def read_legal_questions(path: str | Path) -> list[LegalQuestion]:
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            gold = tuple((str(g["number"]), str(g["article"])) for g in item["gold"] if g.get("article"))
            question = str(item["question"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"dòng {number} của {path} không đúng định dạng: {exc}") from exc
        if gold and question.strip():
            questions.append(LegalQuestion(question, gold))
    if not questions:
        raise ValueError(f"{path}: không có câu hỏi nào có điều luật chuẩn (gold)")
    return questions


def _rank(search, question: str, gold: set[tuple[str, str]], depth: int = 10, on=None) -> int | None:
    hits, _ = search.rank_passages(question, depth=depth, on=on)
    seen: list[tuple[str, str]] = []
    for hit in hits:  # several clauses of one article count once, at its first place
        key = (hit.document, hit.article.removeprefix("Điều ").strip())
        if key not in seen:
            seen.append(key)
    for position, key in enumerate(seen, start=1):
        if key in gold:
            return position
    return None


def score(search, questions: list[LegalQuestion], strip: bool = False, on=None) -> LegalFigures:
    texts = [strip_diacritics(q.question) if strip else q.question for q in questions]
    ranks = [_rank(search, text, set(q.gold), on=on) for text, q in zip(texts, questions, strict=True)]
    abstained = [search.search(text, top_k=1, kinds=("passage",), on=on).abstained for text in texts]
    n = len(ranks)
    return LegalFigures(n, round(sum(r == 1 for r in ranks) / n, 4), round(sum(r is not None and r <= 5 for r in ranks) / n, 4),
                        round(sum(1 / r for r in ranks if r) / n, 4), round(sum(abstained) / n, 4))


def evaluate_legal(search, questions: list[LegalQuestion], on=None) -> dict[str, dict]:
    return {"as_written": asdict(score(search, questions, on=on)),
            "without_diacritics": asdict(score(search, questions, True, on=on))}
