"""English welcome as a second language: a question in English is searched by the Vietnamese of its words."""

from __future__ import annotations

import pytest

from retrieval.analysis import QueryAnalyzer, english_to_vietnamese
from retrieval.lexicon import ENGLISH_FUNCTION_WORDS, ENGLISH_TERMS
from retrieval.normalize import strip_diacritics


@pytest.mark.parametrize(
    ("question", "wanted"),
    [
        ("How do I register a birth for my son?", ["đăng ký", "khai sinh"]),
        ("Where can we get a marriage certificate?", ["giấy chứng nhận kết hôn"]),
        ("What is the fee for a building permit?", ["giấy phép xây dựng", "lệ phí"]),
        ("How do I get a new health insurance card, mine is lost?", ["bảo hiểm y tế", "bị mất"]),
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
        "birth certificate",  # two words, no sentence: left to the Vietnamese analysis
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
