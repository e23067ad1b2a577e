"""The project's own dev sets in ``tests/data/``: shape, size, split and grounding.

The figures in the README are only honest if these sets stay as described in
``tests/data/README.md``: big enough not to be fitted, split by procedure (or legal
article) so that no procedure is tuned on and measured on, written here rather than copied
from the shared dev files, and labelled with codes and articles that really exist.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import unicodedata
from collections import Counter
from functools import cache, lru_cache
from pathlib import Path

import pytest

DATA = Path(__file__).parent
PROCEDURES = DATA / "procedure_questions.jsonl"
ABSTAIN = DATA / "abstain_questions.jsonl"
LEGAL = DATA / "legal_questions.jsonl"
FRESH = DATA / "fresh_procedures.jsonl"  # the decision set: measured only, never tuned on
FRESH2 = DATA / "fresh_procedures_2.jsonl"  # the second decision set, same rule
FRESH3 = DATA / "fresh_procedures_3.jsonl"  # the third decision set, same rule
FRESH4 = DATA / "fresh_procedures_4.jsonl"  # the fourth decision set, same rule
FRESH5 = DATA / "fresh_procedures_5.jsonl"  # the fifth decision set, same rule
FRESH6 = DATA / "fresh_procedures_6.jsonl"  # the sixth decision set, same rule
FRESH_LEGAL = DATA / "fresh_legal.jsonl"  # the first legal decision set, same rule

STYLES = {"kiosk", "portal", "story", "english"}
SPLITS = {"tune", "heldout"}
QUESTION_KEYS = {"id", "question", "expected", "procedure", "style", "accented", "split"}
LEGAL_KEYS = {"id", "source", "question", "gold", "evidence", "style", "accented", "split"}
GOLD_KEYS = {"doc", "number", "article", "article_title"}


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@cache
def _rows(name: str) -> tuple[dict, ...]:
    return tuple(_read(DATA / name))


def procedures() -> tuple[dict, ...]:
    return _rows(PROCEDURES.name)


def abstains() -> tuple[dict, ...]:
    return _rows(ABSTAIN.name)


def legal() -> tuple[dict, ...]:
    return _rows(LEGAL.name)


def fresh() -> tuple[dict, ...]:
    return _rows(FRESH.name)


def fresh2() -> tuple[dict, ...]:
    return _rows(FRESH2.name)


def fresh3() -> tuple[dict, ...]:
    return _rows(FRESH3.name)


def fresh4() -> tuple[dict, ...]:
    return _rows(FRESH4.name)


def fresh5() -> tuple[dict, ...]:
    return _rows(FRESH5.name)


def fresh6() -> tuple[dict, ...]:
    return _rows(FRESH6.name)


def fresh_legal() -> tuple[dict, ...]:
    return _rows(FRESH_LEGAL.name)


def has_diacritics(text: str) -> bool:
    """True when the text carries a Vietnamese accent or đ (what «accented» means here)."""
    decomposed = unicodedata.normalize("NFD", text)
    return any(unicodedata.combining(ch) for ch in decomposed) or "đ" in text.lower()


def split_for(key: str) -> str:
    """The documented split rule: sha1 of the key, even → tune, odd → heldout."""
    return "tune" if int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "heldout"


def normalised(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


def unaccented_share(rows: list[dict] | tuple[dict, ...]) -> float:
    vietnamese = [row for row in rows if row["style"] != "english"]
    return sum(not row["accented"] for row in vietnamese) / len(vietnamese)


# --- shape ---------------------------------------------------------------------------


def test_every_question_line_has_the_documented_keys_and_values() -> None:
    for row in procedures() + abstains():
        assert set(row) == QUESTION_KEYS, row["id"]
        assert row["style"] in STYLES and row["split"] in SPLITS, row["id"]
        assert isinstance(row["accented"], bool) and row["question"].strip(), row["id"]
        assert all(re.fullmatch(r"\d\.\d{6}", code) for code in row["expected"]), row["id"]
    for row in procedures():
        assert re.fullmatch(r"pq-\d{4}", row["id"])
        assert row["expected"] and row["procedure"] == row["expected"][0], row["id"]
        assert len(set(row["expected"])) == len(row["expected"]), row["id"]
    for row in abstains():
        assert re.fullmatch(r"aq-\d{4}", row["id"])
        assert row["expected"] == [] and row["procedure"] is None, row["id"]


def test_every_legal_line_has_the_documented_keys_and_grounding() -> None:
    for row in legal():
        assert set(row) == LEGAL_KEYS, row["id"]
        assert re.fullmatch(r"lq-\d{4}", row["id"])
        assert row["style"] in STYLES and row["split"] in SPLITS, row["id"]
        for gold in row["gold"]:
            assert set(gold) == GOLD_KEYS, row["id"]
            assert gold["article_title"].startswith(f"Điều {gold['article']}. "), row["id"]
        # an answerable question quotes its supporting sentence; one outside the library has none
        assert bool(row["evidence"]) == bool(row["gold"]), row["id"]


def test_ids_are_unique_and_no_question_is_written_twice() -> None:
    rows = procedures() + abstains() + legal() + fresh() + fresh2() + fresh3() + fresh4() + fresh5() + fresh6()
    ids = Counter(row["id"] for row in rows)
    assert not [key for key, count in ids.items() if count > 1]
    texts = Counter(normalised(row["question"]) for row in rows)
    assert not [text for text, count in texts.items() if count > 1]


def test_accented_flag_says_whether_the_question_has_diacritics() -> None:
    rows = procedures() + abstains() + legal() + fresh() + fresh2() + fresh3() + fresh4() + fresh5() + fresh6()
    wrong = [row["id"] for row in rows if row["accented"] != has_diacritics(row["question"])]
    assert not wrong


# --- size and mix --------------------------------------------------------------------


def test_procedure_set_covers_at_least_150_procedures_with_400_questions() -> None:
    assert len(procedures()) >= 400
    assert len({row["procedure"] for row in procedures()}) >= 150


def test_abstain_set_has_at_least_120_questions() -> None:
    assert len(abstains()) >= 120


def test_legal_set_has_150_grounded_and_30_outside_the_library() -> None:
    assert sum(bool(row["gold"]) for row in legal()) >= 150
    assert sum(not row["gold"] for row in legal()) >= 30


@pytest.mark.parametrize("split", sorted(SPLITS))
def test_each_half_has_at_least_40_percent_without_diacritics(split: str) -> None:
    answerable = [row for row in procedures() if row["split"] == split]
    both = answerable + [row for row in abstains() if row["split"] == split]
    assert unaccented_share(answerable) >= 0.40
    assert unaccented_share(both) >= 0.40
    assert unaccented_share([row for row in legal() if row["split"] == split]) >= 0.30


def test_english_questions_are_at_most_five_percent() -> None:
    for rows in (procedures(), abstains(), legal()):
        assert sum(row["style"] == "english" for row in rows) / len(rows) <= 0.05


def test_every_style_is_present_in_the_procedure_set() -> None:
    assert {row["style"] for row in procedures()} == STYLES


@pytest.mark.parametrize("rows", [procedures, abstains], ids=["procedures", "abstain"])
def test_both_halves_have_a_similar_style_mix(rows) -> None:
    halves = {split: [row["style"] for row in rows() if row["split"] == split] for split in SPLITS}
    for style in STYLES:
        shares = [halves[split].count(style) / len(halves[split]) for split in sorted(SPLITS)]
        assert abs(shares[0] - shares[1]) <= 0.10, style


# --- the split -----------------------------------------------------------------------


def test_split_is_the_hash_of_the_procedure_the_article_or_the_id() -> None:
    for row in procedures():
        assert row["split"] == split_for(row["procedure"]), row["id"]
    for row in abstains():
        assert row["split"] == split_for(row["id"]), row["id"]
    for row in legal():
        gold = row["gold"]
        key = f"{gold[0]['doc']}#{gold[0]['article']}" if gold else row["id"]
        assert row["split"] == split_for(key), row["id"]


def test_no_procedure_and_no_article_is_in_both_halves() -> None:
    seen: dict[str, set[str]] = {}
    for row in procedures():
        seen.setdefault(row["procedure"], set()).add(row["split"])
    for row in legal():
        if row["gold"]:
            seen.setdefault(f"{row['gold'][0]['doc']}#{row['gold'][0]['article']}", set()).add(row["split"])
    assert not [key for key, splits in seen.items() if len(splits) > 1]
    for split in SPLITS:  # and each half really holds some of each
        assert sum(row["split"] == split for row in procedures()) >= 150
        assert sum(row["split"] == split and bool(row["gold"]) for row in legal()) >= 60


# --- grounding in the shared data ----------------------------------------------------


@lru_cache(maxsize=1)
def catalogue(path: Path) -> dict[str, dict]:
    with gzip.open(path / "dichvucong_procedures.jsonl.gz", "rt", encoding="utf-8") as handle:
        return {record["ma_thu_tuc"]: record for record in map(json.loads, handle)}


@cache
def legal_articles(path: Path, doc: str) -> tuple[str, dict[str, str]]:
    """The document's number and its articles, each as the text under its ``Điều N.`` heading."""
    text = (path / "legal" / f"{doc}.md").read_text(encoding="utf-8")
    number = re.search(r"^number: (.+)$", text, re.M).group(1).strip()
    body = text.split("\n## Chú thích")[0]
    articles: dict[str, list[str]] = {}
    current = None
    for line in body.splitlines():
        heading = re.match(r"^Điều (\d+[a-z]?)\. ", line)
        if heading:
            current = heading.group(1)
            articles[current] = [line]
        elif re.match(r"^(Chương|Mục) ", line):
            current = None
        elif current:
            articles[current].append(line)
    return number, {key: "\n".join(lines) for key, lines in articles.items()}


def without_footnotes(text: str) -> str:
    return re.sub(r"\s*\[\^\d+\]", "", text)


@pytest.mark.shared_data
def test_every_expected_code_is_in_the_national_catalogue(shared_data: Path) -> None:
    known = catalogue(shared_data)
    missing = sorted({code for row in procedures() for code in row["expected"]} - set(known))
    assert not missing


@pytest.mark.shared_data
def test_most_questions_are_about_procedures_a_commune_center_handles(shared_data: Path) -> None:
    known = catalogue(shared_data)
    commune = [row for row in procedures() if "Cấp xã" in known[row["procedure"]]["cap_thuc_hien"]]
    assert len(commune) / len(procedures()) >= 0.75
    assert len({row["procedure"] for row in commune}) >= 150


@pytest.mark.shared_data
def test_legal_gold_articles_and_evidence_exist_in_the_shared_texts(shared_data: Path) -> None:
    for row in legal() + fresh_legal():
        for gold in row["gold"]:
            number, articles = legal_articles(shared_data, gold["doc"])
            assert gold["number"] == number, row["id"]
            assert gold["article"] in articles, row["id"]
            assert without_footnotes(articles[gold["article"]]).startswith(gold["article_title"]), row["id"]
        if row["gold"]:
            _, articles = legal_articles(shared_data, row["gold"][0]["doc"])
            assert row["evidence"] in without_footnotes(articles[row["gold"][0]["article"]]), row["id"]


@pytest.mark.shared_data
def test_no_question_is_taken_from_the_shared_question_sets(shared_data: Path) -> None:
    shared: set[str] = set()
    for path in [shared_data / "dev_questions.jsonl", shared_data / "dev_kiosk_questions.jsonl",
                 *sorted((shared_data / "legal" / "questions").glob("*.jsonl"))]:
        shared |= {normalised(row["question"]) for row in _read(path)}
    alqac = shared_data / "legal" / "alqac2023"
    alqac_text = normalised(" ".join(p.read_text(encoding="utf-8") for p in sorted(alqac.glob("*.json"))
                                     if p.name != "legal_passages.json"))
    for row in procedures() + abstains() + legal() + fresh() + fresh2() + fresh3() + fresh4() + fresh5() + fresh6() + fresh_legal():
        question = normalised(row["question"])
        assert question not in shared, row["id"]
        if len(question) >= 25:
            assert question not in alqac_text, row["id"]


@pytest.mark.shared_data
def test_no_question_is_copied_from_the_catalogue_text(shared_data: Path) -> None:
    """The catalogue's own sentences (names, FAQ) must not come back as questions."""
    sentences: set[str] = set()
    for record in catalogue(shared_data).values():
        for text in (record.get("raw_text", ""), record["ten_thu_tuc"]):
            sentences.update(normalised(part) for part in re.split(r"[.?!\n]+", text))
    rows = procedures() + abstains() + legal() + fresh() + fresh2() + fresh3() + fresh4() + fresh5() + fresh6()
    copied = [row["id"] for row in rows
              if len(row["question"]) >= 20 and normalised(row["question"]).rstrip(" ?.!") in sentences]
    assert not copied


# --- the fresh decision set (issue 18) ---------------------------------------------------


def test_fresh_set_has_the_documented_keys_and_is_marked_for_decisions_only() -> None:
    for row in fresh():
        assert set(row) == QUESTION_KEYS, row["id"]
        assert row["style"] in STYLES and row["split"] == "decision", row["id"]
        assert all(re.fullmatch(r"\d\.\d{6}", code) for code in row["expected"]), row["id"]
        if row["expected"]:
            assert re.fullmatch(r"fq-\d{4}", row["id"]) and row["procedure"] == row["expected"][0], row["id"]
            assert len(set(row["expected"])) == len(row["expected"]), row["id"]
        else:
            assert re.fullmatch(r"fa-\d{4}", row["id"]) and row["procedure"] is None, row["id"]


def test_fresh_set_size_and_mix() -> None:
    answerable = [row for row in fresh() if row["expected"]]
    assert len(answerable) >= 150
    assert len({row["procedure"] for row in answerable}) >= 60
    assert sum(not row["expected"] for row in fresh()) >= 40
    assert unaccented_share(answerable) >= 0.40 and unaccented_share(fresh()) >= 0.40
    assert sum(row["style"] == "english" for row in fresh()) / len(fresh()) <= 0.05
    assert sum(row["style"] == "story" for row in answerable) >= 15


@pytest.mark.shared_data
def test_fresh_set_codes_exist_and_its_procedures_are_done_at_commune_level(shared_data: Path) -> None:
    known = catalogue(shared_data)
    assert not sorted({code for row in fresh() for code in row["expected"]} - set(known))
    commune = {row["procedure"] for row in fresh()
               if row["expected"] and "Cấp xã" in known[row["procedure"]]["cap_thuc_hien"]}
    assert len(commune) >= 60


# --- the later fresh decision sets (fresh_procedures_2.jsonl … _6.jsonl): their documented mix --------

# (reader, answerable, procedures, to decline, answerable styles, decline styles, % unaccented, lines with >1 code)
LATER_MIX = [
    (fresh2, 263, 145, 56, {"kiosk": 202, "story": 44, "portal": 10, "english": 7},
     {"kiosk": 49, "story": 3, "portal": 2, "english": 2}, 51, 59),
    (fresh3, 267, 164, 48, {"kiosk": 210, "story": 41, "portal": 8, "english": 8},
     {"kiosk": 41, "story": 3, "portal": 2, "english": 2}, 53, 55),
    (fresh4, 265, 164, 52, {"kiosk": 209, "story": 39, "portal": 9, "english": 8},
     {"kiosk": 45, "story": 3, "portal": 2, "english": 2}, 52, 58),
    (fresh5, 267, 166, 50, {"kiosk": 205, "story": 46, "portal": 9, "english": 7},
     {"kiosk": 43, "story": 3, "portal": 2, "english": 2}, 53, 69),
    (fresh6, 266, 166, 50, {"kiosk": 205, "story": 45, "portal": 9, "english": 7},
     {"kiosk": 43, "story": 3, "portal": 2, "english": 2}, 54, 68),
]


@pytest.mark.parametrize(("rows", "n_answerable", "n_procedures", "n_decline", "styles", "decline_styles",
                          "unaccented_percent", "multi_code"), LATER_MIX, ids=["fresh2", "fresh3", "fresh4", "fresh5", "fresh6"])
def test_a_later_fresh_set_s_size_and_mix_are_the_documented_ones(
        rows, n_answerable, n_procedures, n_decline, styles, decline_styles, unaccented_percent, multi_code) -> None:
    """The figures of the README tables; the sets are frozen, so they are checked exactly."""
    answerable = [row for row in rows() if row["expected"]]
    decline = [row for row in rows() if not row["expected"]]
    per_procedure = Counter(row["procedure"] for row in answerable)
    assert (len(answerable), len(per_procedure), len(decline)) == (n_answerable, n_procedures, n_decline)
    assert set(per_procedure.values()) <= {1, 2, 3, 4}
    assert Counter(row["style"] for row in answerable) == styles
    assert Counter(row["style"] for row in decline) == decline_styles
    assert unaccented_share(rows()) >= 0.45 and unaccented_share(answerable) >= 0.45
    assert unaccented_share(decline) >= 0.45
    assert round(100 * unaccented_share(rows())) == unaccented_percent
    stories = sum(row["style"] == "story" for row in rows()) / len(rows())
    assert 0.12 <= stories <= 0.18
    assert sum(row["style"] == "english" for row in rows()) >= 5
    assert sum(row["style"] == "english" for row in rows()) / len(rows()) <= 0.05
    assert sum(len(row["expected"]) > 1 for row in answerable) == multi_code


# --- the later decision sets alike (keys, repeats, codes) -----------------------------------

LATER_SETS = pytest.mark.parametrize(("rows", "split", "number"),
                                     [(fresh2, "decision2", 2), (fresh3, "decision3", 3), (fresh4, "decision4", 4),
                                      (fresh5, "decision5", 5), (fresh6, "decision6", 6)],
                                     ids=["fresh2", "fresh3", "fresh4", "fresh5", "fresh6"])


@LATER_SETS
def test_a_later_fresh_set_has_the_documented_keys_and_is_marked_for_decisions_only(rows, split, number) -> None:
    for row in rows():
        assert set(row) == QUESTION_KEYS, row["id"]
        assert row["style"] in STYLES and row["split"] == split, row["id"]
        assert isinstance(row["accented"], bool) and row["question"].strip(), row["id"]
        assert all(re.fullmatch(r"\d\.\d{6}", code) for code in row["expected"]), row["id"]
        if row["expected"]:
            assert re.fullmatch(rf"fq{number}-\d{{4}}", row["id"]) and row["procedure"] == row["expected"][0], row["id"]
            assert len(set(row["expected"])) == len(row["expected"]), row["id"]
        else:
            assert re.fullmatch(rf"fa{number}-\d{{4}}", row["id"]) and row["procedure"] is None, row["id"]


@LATER_SETS
def test_a_later_fresh_set_repeats_no_question_of_the_sets_before_it(rows, split, number) -> None:
    earlier = (procedures() + abstains() + legal() + fresh() + (fresh2() if number >= 3 else ())
               + (fresh3() if number >= 4 else ()) + (fresh4() if number >= 5 else ())
               + (fresh5() if number >= 6 else ()))
    others = {normalised(row["question"]) for row in earlier}
    assert not [row["id"] for row in rows() if normalised(row["question"]) in others]
    assert len({normalised(row["question"]) for row in rows()}) == len(rows())


@pytest.mark.shared_data
@LATER_SETS
def test_a_later_fresh_set_s_codes_exist_and_every_main_procedure_is_done_at_commune_level(
        shared_data: Path, rows, split, number) -> None:
    known = catalogue(shared_data)
    assert not sorted({code for row in rows() for code in row["expected"]} - set(known))
    not_commune = [row["id"] for row in rows()
                   if row["expected"] and "Cấp xã" not in known[row["procedure"]]["cap_thuc_hien"]]
    assert not not_commune
    assert len({row["procedure"] for row in rows() if row["expected"]}) >= 90


# --- the first legal decision set (fresh_legal.jsonl) ---------------------------------------

FRESH_LEGAL_DOCS = {"60-2014-QH13": 24, "68-2020-QH14": 23, "31-2024-QH15": 23, "52-2014-QH13": 21,
                    "26-2023-QH15": 19, "23-2015-ND-CP": 14, "123-2015-ND-CP": 13, "118-2025-ND-CP": 9,
                    "03-2026-QH16": 6, "154-2024-ND-CP": 5, "62-2021-ND-CP": 1}


def test_fresh_legal_set_has_the_documented_keys_and_is_marked_for_decisions_only() -> None:
    for row in fresh_legal():
        assert set(row) == LEGAL_KEYS and row["source"] == "written for this project", row["id"]
        assert row["style"] in STYLES and row["split"] == "legaldecision1", row["id"]
        assert isinstance(row["accented"], bool) and row["question"].strip(), row["id"]
        assert row["accented"] == has_diacritics(row["question"]), row["id"]
        for gold in row["gold"]:
            assert set(gold) == GOLD_KEYS, row["id"]
            assert gold["article_title"].startswith(f"Điều {gold['article']}. "), row["id"]
        assert len({(gold["doc"], gold["article"]) for gold in row["gold"]}) == len(row["gold"]), row["id"]
        # an answerable question quotes its supporting sentence; one outside the library has none
        assert bool(row["evidence"]) == bool(row["gold"]), row["id"]
        assert re.fullmatch(r"fl-\d{4}" if row["gold"] else r"fla-\d{4}", row["id"]), row["id"]
    assert len({row["id"] for row in fresh_legal()}) == len(fresh_legal())


def test_fresh_legal_set_size_and_mix_are_the_documented_ones() -> None:
    """The figures of the README table; the set is frozen, so they are checked exactly."""
    answerable = [row for row in fresh_legal() if row["gold"]]
    decline = [row for row in fresh_legal() if not row["gold"]]
    articles = {(row["gold"][0]["doc"], row["gold"][0]["article"]) for row in answerable}
    assert (len(answerable), len(articles), len(decline)) == (158, 141, 40)
    assert len({(gold["doc"], gold["article"]) for row in answerable for gold in row["gold"]}) == 144
    assert Counter(row["gold"][0]["doc"] for row in answerable) == FRESH_LEGAL_DOCS
    assert max(Counter(row["gold"][0]["doc"] + "#" + row["gold"][0]["article"] for row in answerable).values()) <= 3
    assert sum(len(row["gold"]) > 1 for row in answerable) == 3
    assert Counter(row["style"] for row in answerable) == {"kiosk": 127, "story": 22, "portal": 5, "english": 4}
    assert Counter(row["style"] for row in decline) == {"kiosk": 33, "story": 3, "portal": 2, "english": 2}
    assert unaccented_share(fresh_legal()) >= 0.45 and unaccented_share(answerable) >= 0.45
    assert unaccented_share(decline) >= 0.45
    assert round(100 * unaccented_share(fresh_legal())) == 52
    stories = sum(row["style"] == "story" for row in fresh_legal()) / len(fresh_legal())
    assert 0.10 <= stories <= 0.15
    english = sum(row["style"] == "english" for row in fresh_legal())
    assert english >= 3 and english / len(fresh_legal()) <= 0.05


def test_fresh_legal_set_repeats_no_question_of_any_other_set() -> None:
    others = procedures() + abstains() + legal() + fresh() + fresh2() + fresh3() + fresh4() + fresh5() + fresh6()
    seen = {normalised(row["question"]) for row in others}
    assert not [row["id"] for row in fresh_legal() if normalised(row["question"]) in seen]
    assert len({normalised(row["question"]) for row in fresh_legal()}) == len(fresh_legal())
    assert not {row["id"] for row in fresh_legal()} & {row["id"] for row in others}
