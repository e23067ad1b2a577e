"""English welcome as a second language: a question in English is searched by the Vietnamese of its words."""

from __future__ import annotations

import pytest

from retrieval.analysis import QueryAnalyzer, english_to_vietnamese
from retrieval.lexicon import ENGLISH_FUNCTION_WORDS, ENGLISH_TERMS
from retrieval.normalize import could_be_vietnamese, strip_diacritics


@pytest.mark.parametrize(
    ("question", "wanted"),
    [
        ("How do I register a birth for my son?", ["đăng ký", "khai sinh"]),
        ("Where can we get a marriage certificate?", ["giấy chứng nhận kết hôn"]),
        ("What is the fee for a building permit?", ["giấy phép xây dựng", "lệ phí"]),
        ("How do I get a new health insurance card, mine is lost?", ["bảo hiểm y tế", "bị mất"]),
        # one function word only («how»): «register», «baby», «birth» spell no Vietnamese syllable
        ("How do I register my baby's birth?", ["đăng ký", "khai sinh"]),
        ("birth certificate", ["giấy khai sinh"]),
    ],
)
def test_an_english_question_becomes_the_vietnamese_of_its_words(question, wanted):
    vietnamese = english_to_vietnamese(question)
    for words in wanted:
        assert words in vietnamese


def test_longer_phrases_win_over_their_words():
    assert english_to_vietnamese("What is the fee for a birth certificate?") == "lệ phí giấy khai sinh"


@pytest.mark.parametrize(
    "message",
    [
        "the bhyt bi mat thi cap lai o dau",  # «thẻ BHYT»: «the» is not English here
        "can lam giay khai sinh cho con",  # «cần»
        "my tho co lam so do khong",  # «Mỹ Tho»
        "đăng ký khai sinh ở đâu",
        "co can mang passport khong",  # one English word in a Vietnamese message
        "ba toi mat roi, lam giay bao tu o dau",  # «mat», «bao», «tu» are Vietnamese syllables
        "name tren passport bi sai",  # two English words, three Vietnamese ones: a Vietnamese message
        "cho em xin copy house registration",
    ],
)
def test_vietnamese_and_bare_words_are_left_alone(message):
    assert english_to_vietnamese(message) == ""


def test_no_function_word_spells_a_vietnamese_syllable():
    """«the», «can», «my», «that» are «thẻ», «cần», «Mỹ», «thật» typed without marks."""
    vietnamese_bare = {strip_diacritics(w) for _, v in ENGLISH_TERMS for w in v.split()}
    assert not ENGLISH_FUNCTION_WORDS & vietnamese_bare
    assert not {"the", "can", "my", "that", "to", "do", "an", "me"} & ENGLISH_FUNCTION_WORDS


def test_the_analyzer_searches_english_by_its_vietnamese():
    analyzed = QueryAnalyzer().analyze("How do I register the death of my father?")
    assert {"khai", "tử"} <= set(analyzed.tokens)
    assert "father" not in analyzed.dense_text


def test_words_of_the_terms_count_as_english_only_when_no_vietnamese_syllable_spells_them():
    assert not could_be_vietnamese("register") and not could_be_vietnamese("birth")
    assert not could_be_vietnamese("baby") and not could_be_vietnamese("fee")
    for word in ("do", "can", "buy", "the", "nghieng", "khuyen", "truong", "quyet", "giay", "oanh"):
        assert could_be_vietnamese(word), word
