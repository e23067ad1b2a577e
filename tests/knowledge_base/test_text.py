"""Diacritics are folded in one place (knowledge_base.text), the same way for every package."""

from __future__ import annotations

import unicodedata

import pytest

from knowledge_base.text import clean_text, fold, strip_diacritics


@pytest.mark.parametrize(
    ("text", "bare"),
    [
        ("Đăng ký khai sinh", "Dang ky khai sinh"),
        ("ĐỒNG THÁP", "DONG THAP"),
        ("hoà / hòa", "hoa / hoa"),
        ("Nguyễn Thị Ánh Tuyết, 0903-222-111!", "Nguyen Thi Anh Tuyet, 0903-222-111!"),
        ("already ascii", "already ascii"),
        ("", ""),
    ],
)
def test_strip_diacritics_keeps_case_and_punctuation(text, bare):
    assert strip_diacritics(text) == bare
    assert strip_diacritics(unicodedata.normalize("NFD", text)) == bare  # decomposed input too


def test_fold_is_what_matching_compares():
    assert fold("«Thôi, KHÔNG khai nữa!»") == "thoi khong khai nua"
    assert fold("Đăng ký  Khai sinh") == "dang ky khai sinh"
    assert fold(None) == "" and fold("  ") == ""
    assert fold("Nghị định 123/2015/NĐ-CP", keep=".") == "nghi dinh 123 2015 nd cp"
    assert fold("Điều 5.1 Luật Cư trú", keep=".") == "dieu 5.1 luat cu tru"


def test_every_package_uses_the_one_fold():
    import actions.knowledge
    import knowledge_base.form_turns
    import knowledge_base.forms
    import motcua.nlu_sync
    import retrieval.normalize

    assert actions.knowledge.fold is fold and knowledge_base.form_turns.fold is fold and knowledge_base.forms.fold is fold
    assert motcua.nlu_sync.strip_diacritics is strip_diacritics
    assert retrieval.normalize.strip_diacritics is strip_diacritics


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("lay so\x00chung thuc", "lay so chung thuc"),  # a NUL between words is a word break, not glue
        ("lấy số\x07\x1f\x7fhộ tịch", "lấy số hộ tịch"),  # a run of them: one space
        ("lấy\x85số", "lấy số"),  # C1 too (NEL)
        ("a \x00 b", "a b"),  # the spaces beside it are not doubled
        ("a\x00 b", "a b"),
        ("a\x00 \x01b", "a b"),
        ("\x00lấy số\x00", "lấy số"),  # at the ends: nothing
        ("dòng một\x00\ndòng hai", "dòng một\ndòng hai"),  # beside a line end: nothing
        ("cột\x00\tcột", "cột\tcột"),
        ("về\x1b[31m đỏ", "về[31m đỏ"),  # an escape character belongs to the sequence after it
        ("hai  dấu cách", "hai  dấu cách"),  # what the citizen typed themselves is kept
        ("CCCD 0011\x0090012345", "CCCD 001190012345"),  # inside a number: still one number (masked in logs)
        ("số 0011\x00 90012345", "số 0011 90012345"),  # a space typed stays a space
        ("lay so\x00chung thuc".upper(), "LAY SO CHUNG THUC"),
    ],
)
def test_clean_text_turns_control_characters_into_a_word_break(typed, stored):
    assert clean_text(typed) == stored
    assert fold(clean_text(typed)) == fold(stored)


def test_clean_text_keeps_the_words_a_queue_service_is_chosen_by():
    from motcua.queue.config import load_queue_config, service_phrases, services_named

    phrases = {s.code: service_phrases(s.name, s.fields, s.aliases) for s in load_queue_config().services}
    assert services_named(clean_text("lay so\x00chung thuc"), phrases) == ["CT"]
    assert services_named(clean_text("lay so ho\x00tich"), phrases) == ["HT"]
