"""Diacritics are folded in one place (knowledge_base.text), the same way for every package."""

from __future__ import annotations

import unicodedata

import pytest

from knowledge_base.text import fold, strip_diacritics


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
