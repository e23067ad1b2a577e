"""Ranking legal passages: the article that answers, from clause-level scores.

The passages group of :class:`retrieval.hybrid.HybridIndex` holds clauses (and articles
without clauses). Its signals are the same as the procedures' (BM25 accented and bare,
title coverage, dense title and summary), but blended with their own weights,
:data:`LEGAL_FUSION_WEIGHTS`, and then:

1. **in force on the day asked about** — a passage of a document that is not in force
   on the question's date (replaced, or not yet effective) loses
   :data:`NOT_IN_FORCE_PENALTY`; it stays searchable, and is labelled in the answer;
2. **article-level aggregation** — an article scores its best clause plus a geometric
   share (:data:`ARTICLE_SPREAD`) of its next best ones, so an article whose several
   clauses speak to the question beats one lucky clause elsewhere; the hit reported for
   an article is its best clause (what the answer quotes);
3. **abstention** — a small logistic model over features of the best article
   (:data:`LEGAL_CONFIDENCE_WEIGHTS`) says whether the library answers at all.

Constants are chosen by ``retrieval/dev/legal_tune.py`` on one half of the legal
questions and checked on the other half (figures in ``bench/results/legal.json``).
Plain numpy; nothing heavy at import.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

# Fusion weights of the passages group (same signal names as retrieval.fusion.FUSION_WEIGHTS).
LEGAL_FUSION_WEIGHTS: dict[str, float] = {
    "full_accented": 2.0,  # BM25 over clause + article title + chapter/section/document context
    "full_bare": 0.5,  # the same without diacritics
    "title_accented": 0.0,
    "dense_title": 0.0,  # the article title alone says too little about a clause
    "dense_summary": 1.0,  # cosine to article title + clause text
    "title_coverage": 0.5,  # share of the article title's syllables in the question
    "title_coverage_idf": 0.0,
    "query_coverage": 1.0,  # IDF-weighted share of the question found in the article title
    "document_mention": 0.5,  # the question names the passage's document ("theo Luật Cư trú")
}
LEGAL_LEAD_SIGNALS = tuple(LEGAL_FUSION_WEIGHTS)
"""Signals on which the first article's lead over the second is measured (``PassageHit.lead``, for an answer
model's ``answer_leads``; :data:`retrieval.decision.LEGAL_POLICY` reads none, they lost on the tuning half's
folds): each single signal of the legal fusion, scaled as it is blended
(:func:`retrieval.fusion.scaled_signal`), the first article's best clause minus the second's."""
ARTICLE_SPREAD = 0.0  # share of the 2nd best clause added to the article's score (3rd: squared…); 0.15 ties
ARTICLE_DEPTH = 3  # clauses per article that count
NOT_IN_FORCE_PENALTY = 1.0  # subtracted (in fused units) from passages not in force on the day
AGGREGATE_POOL = 400  # only the best this-many clauses are aggregated (the rest cannot reach the top)

# Abstention on legal questions: logistic model of "the best article answers" over features
# of the best hit (retrieval.abstention.legal_features), fitted by retrieval/dev/legal_tune.py on half A
# of the legal questions (both spellings, answerable) against half of: ALQAC 2023 statements
# whose law is outside the library (drugs, education, cinema, tourism, arbitration…), short
# questions on other law (traffic, tax, labour…) and off-topic messages, balanced. At 0.4,
# held out (half B): 4 % of answerable questions and 81 % of outside ones abstain (half A,
# in sample: 11 % and 75 %).
LEGAL_CONFIDENCE_WEIGHTS: dict[str, float] = {
    "score": 2.152,  # the best article's fused score / sum of weights
    "margin": 1.193,  # … minus the second's
    "text_coverage": 2.337,  # IDF-weighted share of the question found in the clause + context
    "title_coverage_idf": 3.639,  # … of the article title found in the question
    "query_coverage": 1.143,  # … of the question found in the article title
    "document_agreement": 0.623,  # share of the ten best articles in the same document
    "disagreement": 0.361,  # worst log-rank of the best clause among single signals
    "query_terms": -0.218,  # log(1 + content syllables of the question)
}
LEGAL_CONFIDENCE_BIAS = -5.146
LEGAL_ABSTAIN_THRESHOLD = 0.4

FAR_FUTURE = date.max.toordinal()

# How citizens ask → the words laws head their articles with. A question asks for a time
# limit, an authority, papers, conditions, a fee, steps or a prohibition; the article that
# answers is headed "Thời hạn…", "Thẩm quyền…", "Hồ sơ…", "Điều kiện…", "Lệ phí…",
# "Thủ tục…", "…nghiêm cấm", "Quyền, nghĩa vụ…", "Các trường hợp…". Matched on
# the question without diacritics (syllables), the concept words are added to the keyword query
# of the passages group only. Everyday question words («mất tiền không», «tốn tiền», «làm ở xã
# nào», «bao giờ», «có quyền», «trường hợp nào») were added on the tuning half of tests/data only
# (retrieval/dev/legal_methods_cv.py: hit@1 0.622 → 0.633, recall@3 0.766 → 0.787 there, both
# spellings). Penalty and legality words («bị phạt», «có vi phạm không», «có hợp pháp không») are
# NOT mapped: such questions are mostly about law outside the library (traffic, criminal, labour),
# and the added heading words raised the confidence on them (one more of the 16 outside
# questions answered instead of declined).
LEGAL_QUESTION_CONCEPTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        (
            "bao lau",
            "bao nhieu ngay",
            "may ngay",
            "bao nhieu thang",
            "may thang",
            "bao nhieu nam",
            "khi nao",
            "han chot",
            "bao gio",
            "luc nao",
        ),
        "thời hạn",
    ),
    (
        (
            "o dau",
            "co quan nao",
            "noi nao",
            "ai cap",
            "ai giai quyet",
            "ai co tham quyen",
            "cap nao",
            "xa nao",
            "huyen nao",
            "tinh nao",
        ),
        "thẩm quyền",
    ),
    (
        (
            "giay to gi",
            "giay to nao",
            "nhung giay to",
            "ho so gom",
            "ho so can",
            "can nhung gi",
            "nop nhung gi",
            "mang theo",
        ),
        "hồ sơ giấy tờ",
    ),
    (
        (
            "dieu kien gi",
            "dieu kien nao",
            "nhung dieu kien",
            "co duoc",
            "duoc khong",
            "bao nhieu tuoi",
            "tuoi nao",
            "du tuoi",
        ),
        "điều kiện",
    ),
    (
        (
            "bao nhieu tien",
            "mat tien",
            "phi bao nhieu",
            "le phi",
            "mien phi",
            "mien le phi",
            "mat phi",
            "ton tien",
            "nop tien",
            "tra tien",
        ),
        "lệ phí",
    ),
    (
        ("lam the nao", "nhu the nao", "the nao", "cach nao", "thu tuc gi", "trinh tu", "lam gi"),
        "thủ tục trình tự",
    ),
    (
        ("bi cam", "khong duoc lam", "cam lam", "nghiem cam"),
        "hành vi bị nghiêm cấm",
    ),
    (("quyen gi", "co quyen", "nghia vu gi", "phai lam gi"), "quyền nghĩa vụ"),
    (("truong hop nao", "khi nao thi"), "trường hợp"),
)
# The True/False and multiple-choice wording of exam-style questions ("…, đúng hay sai?",
# "… là đúng", "Câu trả lời là: …") says nothing about the law asked about.
_QUESTION_FORMAT = re.compile(
    r"(?:[,.]?\s*(?:là\s+|la\s+)?(?:đúng|dung)\s+(?:hay|hoặc|hoac)\s+(?:sai)\s*\??\s*$)"
    r"|(?:\s+(?:là|la)\s+(?:đúng|dung|sai)\s*[.?]?\s*$)"
    r"|(?:câu trả lời(?: đúng)? là\s*:?|cau tra loi(?: dung)? la\s*:?)",
    re.IGNORECASE,
)


def document_name(label: str) -> str:
    """How a question names a document, folded, with its year after ``|``: ``"Luật Hộ tịch 2014"`` →
    ``"luat ho tich|2014"``, ``"Nghị định 123/2015/NĐ-CP"`` → ``"nghi dinh 123"`` ("" when too
    short to be telling)."""
    from retrieval.normalize import strip_diacritics, tokenize_syllables

    words = [strip_diacritics(t) for t in tokenize_syllables(label)]
    if words[:2] == ["nghi", "dinh"] and len(words) > 2:
        return " ".join(words[:3])
    year = ""
    while words and words[-1].isdigit():
        year = words.pop()
    if len(words) < 3:
        return ""
    return " ".join(words) + (f"|{year}" if len(year) == 4 else "")


NAMED_EXPLICITLY = 2.0
""":func:`mentioned_documents`' value for a document named with its year («Luật Hộ tịch 2026») or as
the new one («luật hộ tịch mới», the latest of that name): the question asks about that very text, so
it is not ranked lower for not being in force yet (:func:`retrieval.fusion.passage_scores`)."""


def mentioned_documents(bare_syllables: Sequence[str], names: Sequence[str]) -> np.ndarray:
    """Where the question names the passage's document: 1.0 by name (``"theo luật cư trú"``),
    :data:`NAMED_EXPLICITLY` by name and year or as the new one (``names``: :func:`document_name`
    per passage, or once per distinct document)."""
    joined = f" {' '.join(bare_syllables)} "
    latest: dict[str, str] = {}
    for choice in set(names):
        name, _, year = choice.partition("|")
        if year and year > latest.get(name, ""):
            latest[name] = year
    found: dict[str, float] = {}
    for choice in set(names):
        name, _, year = choice.partition("|")
        if not name or f" {name} " not in joined:
            continue
        explicit = bool(year) and any(f" {name} {middle}{year} " in joined for middle in ("", "nam "))
        explicit = explicit or (f" {name} moi " in joined and latest.get(name) == year)
        found[choice] = NAMED_EXPLICITLY if explicit else 1.0
    return np.array([found.get(name, 0.0) for name in names], dtype=np.float32)


def clean_legal_question(text: str) -> str:
    """The question without exam-style answer wording (``đúng hay sai?``, ``là sai``)."""
    return " ".join(_QUESTION_FORMAT.sub(" ", text).split()) or text


def legal_concepts(bare_syllables: Sequence[str]) -> list[str]:
    """Heading words for what the question asks (see :data:`LEGAL_QUESTION_CONCEPTS`)."""
    joined = f" {' '.join(bare_syllables)} "
    return [
        concept for phrases, concept in LEGAL_QUESTION_CONCEPTS if any(f" {p} " in joined for p in phrases)
    ]


def day_ordinal(iso: str, default: int) -> int:
    """``"2027-03-01"`` → its ordinal; ``default`` for an empty or bad value."""
    try:
        return date.fromisoformat(iso).toordinal() if iso else default
    except ValueError:
        return default


def in_force_mask(valid_from: np.ndarray, valid_until: np.ndarray, day: date) -> np.ndarray:
    """True where a passage's document is in force on ``day`` (from ≤ day < until)."""
    ordinal = day.toordinal()
    return (valid_from <= ordinal) & (ordinal < valid_until)


@dataclass(frozen=True)
class ArticleRanking:
    """Articles best first: the position of each article's best clause, and the article's score."""

    best_units: np.ndarray
    scores: np.ndarray


def rank_articles(
    fused: np.ndarray,
    article_ids: np.ndarray,
    spread: float = ARTICLE_SPREAD,
    depth: int = ARTICLE_DEPTH,
    pool: int = AGGREGATE_POOL,
) -> ArticleRanking:
    """Aggregate clause scores per article: best + spread·second + spread²·third …

    ``article_ids`` gives each passage's article as an integer; ``-inf`` scores (not
    allowed) are ignored.
    """
    if fused.shape != article_ids.shape:
        raise ValueError("fused and article_ids must have the same shape")
    finite = np.isfinite(fused)
    if not finite.any():
        return ArticleRanking(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
    count = min(int(finite.sum()), pool)
    top = np.argpartition(-np.where(finite, fused, -np.inf), count - 1)[:count]
    top = top[np.argsort(-fused[top], kind="stable")]
    best: dict[int, int] = {}
    totals: dict[int, float] = {}
    seen: dict[int, int] = {}
    for position in top:
        article = int(article_ids[position])
        n = seen.get(article, 0)
        if n >= depth:
            continue
        score = float(fused[position])
        if n == 0:
            best[article] = int(position)
            totals[article] = score
        elif spread:
            totals[article] += (spread**n) * max(score, 0.0)
        seen[article] = n + 1
    order = sorted(totals, key=lambda a: -totals[a])
    return ArticleRanking(
        np.array([best[a] for a in order], dtype=np.int64),
        np.array([totals[a] for a in order], dtype=np.float32),
    )


def legal_confidence(
    features: dict[str, float], weights: dict[str, float] | None = None, bias: float | None = None
) -> float:
    """Calibrated probability that the best article answers the question."""
    weights = LEGAL_CONFIDENCE_WEIGHTS if weights is None else weights
    bias = LEGAL_CONFIDENCE_BIAS if bias is None else bias
    x = bias + sum(w * features.get(k, 0.0) for k, w in weights.items())
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


def article_keys(documents: Sequence[object]) -> np.ndarray:
    """An integer per passage naming its article (document number + article)."""
    ids: dict[tuple[str, str], int] = {}
    out = np.empty(len(documents), dtype=np.int64)
    for i, d in enumerate(documents):
        fields = getattr(d, "fields", {})
        key = (str(fields.get("document", "")), str(fields.get("article", "")))
        out[i] = ids.setdefault(key, len(ids))
    return out
