"""Normalisation: one canonical form for every way a citizen can type a syllable."""

from __future__ import annotations

import unicodedata

import pytest

from knowledge_base.schema import Synonym
from retrieval.analysis import QueryAnalyzer
from retrieval.normalize import (
    DiacriticRestorer,
    SynonymTable,
    drop_cost_verb,
    expand_shorthand,
    has_diacritics,
    normalize_text,
    remove_stopwords,
    strip_diacritics,
    tokenize_syllables,
)


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("hoà", "hòa"),
        ("thuỷ", "thủy"),
        ("hoá", "hóa"),
        ("khoẻ", "khỏe"),
        ("uỷ ban", "ủy ban"),
        ("tuỳ", "tùy"),
        ("quý", "quý"),  # qu + y: the tone stays on y
        ("hoàng", "hoàng"),  # final consonant: tone on the second vowel either way
        ("người", "người"),
        ("khuyến", "khuyến"),
        ("giữ", "giữ"),
        ("gìn", "gìn"),
    ],
)
def test_tone_mark_placement_is_unified(variant, canonical):
    assert normalize_text(variant) == normalize_text(canonical) == canonical


def test_nfd_input_equals_nfc_input():
    text = "Đăng ký khai sinh cho con"
    assert normalize_text(unicodedata.normalize("NFD", text)) == normalize_text(text)
    assert unicodedata.is_normalized("NFC", normalize_text(unicodedata.normalize("NFD", text)))


def test_mixed_case_is_lowercased_and_spaces_collapsed():
    assert normalize_text("  ĐĂNG   Ký  Kết HÔN ") == "đăng ký kết hôn"


def test_strip_diacritics_handles_d_bar_and_keeps_case():
    assert strip_diacritics("Đăng ký đất đai") == "Dang ky dat dai"
    assert strip_diacritics(unicodedata.normalize("NFD", "hộ tịch")) == "ho tich"


def test_unaccented_and_accented_tokens_match_once_stripped():
    accented = [strip_diacritics(t) for t in tokenize_syllables("Cấp lại thẻ Căn cước")]
    assert accented == tokenize_syllables("cap lai the can cuoc")


def test_tokenize_splits_punctuation_and_underscores():
    assert tokenize_syllables("123/2015/NĐ-CP; giấy_tờ") == ["123", "2015", "nđ", "cp", "giấy", "tờ"]


def test_has_diacritics():
    assert has_diacritics("khai") is False
    assert has_diacritics("sinh") is False
    assert has_diacritics("đăng") is True


def test_kiosk_shorthand_is_expanded():
    tokens = expand_shorthand(tokenize_syllables("ko dc j vs bn e đc k cccd bhyt"))
    assert tokens == ("không được gì với bao nhiêu em được không căn cước công dân bảo hiểm y tế".split())


def test_synonyms_match_with_or_without_diacritics():
    table = SynonymTable([Synonym("sổ đỏ", "giấy chứng nhận quyền sử dụng đất")])
    expected = ["sổ", "đỏ", "giấy", "chứng", "nhận", "quyền", "sử", "dụng", "đất", "bị", "mất"]
    assert table.expand(["sổ", "đỏ", "bị", "mất"]) == expected
    assert table.expand(["so", "do", "bị", "mất"]) == expected
    # a different accented word is not the folk phrase
    assert table.expand(["sơ", "đồ"]) == ["sơ", "đồ"]


def test_empty_synonym_is_refused():
    with pytest.raises(ValueError):
        SynonymTable([Synonym("", "thẻ căn cước")])


def test_stopwords_drop_politeness_but_not_content():
    assert remove_stopwords(tokenize_syllables("cho em hỏi thủ tục đăng ký khai sinh ạ")) == [
        "đăng",
        "ký",
        "khai",
        "sinh",
    ]
    assert remove_stopwords(["ạ", "nhé"]) == ["ạ", "nhé"]  # never empty


def test_diacritic_restorer_uses_corpus_bigrams():
    restorer = DiacriticRestorer().fit(
        ["Thủ tục đăng ký khai sinh", "Cấp giấy khai sinh", "đăng ký kết hôn", "giấy tờ cần mang"] * 3
    )
    assert restorer.restore("dang ky khai sinh".split()) == ["đăng", "ký", "khai", "sinh"]
    assert restorer.restore(["giay", "khai", "sinh"]) == ["giấy", "khai", "sinh"]
    # unknown and already accented syllables are kept as typed
    assert restorer.restore(["xyz", "kết", "hon"]) == ["xyz", "kết", "hôn"]


def test_an_unfitted_restorer_keeps_the_query_as_typed():
    """An empty knowledge base (a fresh install before import) must still answer an unaccented query."""
    assert DiacriticRestorer().restore(["lam", "giay", "khai", "sinh"]) == ["lam", "giay", "khai", "sinh"]


def test_diacritic_restorer_round_trips_through_dict():
    restorer = DiacriticRestorer().fit(["đăng ký kết hôn", "kết hôn có yếu tố nước ngoài"])
    again = DiacriticRestorer.from_dict(restorer.to_dict())
    assert again.restore(["ket", "hon"]) == restorer.restore(["ket", "hon"]) == ["kết", "hôn"]


def test_mat_that_means_takes_or_costs_is_not_a_loss():
    assert drop_cost_verb("đăng ký kết hôn mất bao lâu".split()) == "đăng ký kết hôn bao lâu".split()
    assert drop_cost_verb("làm lại mất mấy ngày , mất phí không".split()) == "làm lại mấy ngày , phí không".split()
    assert drop_cost_verb("mất khoảng 3 tuần".split()) == "khoảng 3 tuần".split()
    for loss in ("mất giấy khai sinh", "bị mất hết giấy tờ", "mất nhiều giấy tờ", "nhà mặt tiền", "mất",
                 "sổ hồng bị xé mất mấy trang", "giấy tờ mất năm ngoái", "mất bao giấy tờ",
                 "bà ngoại mất 3 tháng rồi", "ông mất mấy hôm trước"):
        assert drop_cost_verb(loss.split()) == loss.split()


def test_the_analyzer_reads_mat_bao_lau_as_a_question_of_time_in_both_spellings():
    accented = QueryAnalyzer().analyze("Đăng ký kết hôn mất bao lâu?")
    assert "mất" not in accented.tokens and accented.dense_text.startswith("Đăng ký kết hôn bao lâu?")
    restorer = DiacriticRestorer().fit(["đăng ký kết hôn mất bao lâu", "mất giấy kết hôn"])
    bare = QueryAnalyzer(restorer=restorer).analyze("dang ky ket hon mat bao lau")
    assert bare.tokens[:4] == ["đăng", "ký", "kết", "hôn"] and "mất" not in bare.tokens
    assert "mất" in QueryAnalyzer(restorer=restorer).analyze("mat giay ket hon").tokens
    short = QueryAnalyzer().analyze("Kết hôn mất bn ngày?")  # short-hand «bn» = «bao nhiêu»
    assert "mất" not in short.tokens and "mất" not in short.dense_text
