"""Amounts in Vietnamese words, as the receipt prints them."""

from __future__ import annotations

import pytest

from motcua.payments.words import amount_in_words, number_in_words


@pytest.mark.parametrize(("n", "words"), [
    (0, "không"),
    (1, "một"),
    (4, "bốn"),
    (5, "năm"),
    (10, "mười"),
    (11, "mười một"),  # «một» after «mười», «mốt» only after «mươi»
    (14, "mười bốn"),  # «tư» only after «mươi»
    (15, "mười lăm"),
    (20, "hai mươi"),
    (21, "hai mươi mốt"),
    (24, "hai mươi tư"),
    (25, "hai mươi lăm"),
    (55, "năm mươi lăm"),
    (91, "chín mươi mốt"),
    (100, "một trăm"),
    (101, "một trăm linh một"),
    (104, "một trăm linh bốn"),
    (105, "một trăm linh năm"),  # «năm», not «lăm», without tens
    (110, "một trăm mười"),
    (115, "một trăm mười lăm"),
    (121, "một trăm hai mươi mốt"),
    (1000, "một nghìn"),
    (1005, "một nghìn không trăm linh năm"),
    (1015, "một nghìn không trăm mười lăm"),
    (1100, "một nghìn một trăm"),
    (8000, "tám nghìn"),
    (15000, "mười lăm nghìn"),
    (21000, "hai mươi mốt nghìn"),
    (50000, "năm mươi nghìn"),
    (100000, "một trăm nghìn"),
    (105000, "một trăm linh năm nghìn"),
    (310000, "ba trăm mười nghìn"),
    (1000000, "một triệu"),
    (1000050, "một triệu không trăm năm mươi"),
    (1005000, "một triệu không trăm linh năm nghìn"),
    (1250000, "một triệu hai trăm năm mươi nghìn"),
    (2024000, "hai triệu không trăm hai mươi tư nghìn"),
    (1000000000, "một tỷ"),
    (1000000001, "một tỷ không trăm linh một"),
    (2500000000, "hai tỷ năm trăm triệu"),
    (1000000000000, "một nghìn tỷ"),
    (123456789, "một trăm hai mươi ba triệu bốn trăm năm mươi sáu nghìn bảy trăm tám mươi chín"),
])
def test_numbers_read_as_vietnamese_says_them(n, words):
    assert number_in_words(n) == words


def test_the_southern_le_and_the_receipt_form():
    assert number_in_words(105, odd="lẻ") == "một trăm lẻ năm"
    assert number_in_words(2005000, odd="lẻ") == "hai triệu không trăm lẻ năm nghìn"
    assert amount_in_words(8000) == "Tám nghìn đồng"
    assert amount_in_words(1_250_000) == "Một triệu hai trăm năm mươi nghìn đồng"
    assert amount_in_words(0) == "Không đồng"


@pytest.mark.parametrize("bad", [-1, 1.5, "8000", True])
def test_what_is_not_a_whole_amount_is_refused(bad):
    with pytest.raises((TypeError, ValueError)):
        number_in_words(bad)
    with pytest.raises(ValueError):
        number_in_words(5, odd="le")
