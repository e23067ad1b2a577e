"""CCCD numbers and the chip card's QR payload."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from motcua.identity import PROVINCE_CODES, CccdError, decode_cccd_number, parse_cccd_qr, validate_cccd_number

TODAY = date(2026, 11, 25)
ADDRESS = "Số 12 Hàng Bạc, Phường Hoàn Kiếm, Hà Nội"
PAYLOAD_7 = f"001090012345|012345678|Nguyễn Văn An|15031990|Nam|{ADDRESS}|20042021"


def test_seven_field_payload_is_read_into_a_card():
    card = parse_cccd_qr(PAYLOAD_7, today=TODAY)
    assert card.number == "001090012345"
    assert card.old_number == "012345678"
    assert card.full_name == "Nguyễn Văn An"
    assert card.birth_date == date(1990, 3, 15)
    assert card.sex == "Nam"
    assert card.address == ADDRESS
    assert card.issued == date(2021, 4, 20)


def test_empty_old_number_is_allowed():
    card = parse_cccd_qr(PAYLOAD_7.replace("|012345678|", "||"), today=TODAY)
    assert card.old_number == ""


def test_six_field_payload_has_no_old_number_field():
    card = parse_cccd_qr(f"079305001234|Trần Thị Bích|01022005|Nữ|{ADDRESS}|10102021", today=TODAY)
    assert card.number == "079305001234"
    assert card.old_number == ""
    assert card.full_name == "Trần Thị Bích"
    assert card.sex == "Nữ"
    assert card.issued == date(2021, 10, 10)


def test_trailing_newline_bom_and_decomposed_unicode_are_tolerated():
    decomposed = unicodedata.normalize("NFD", PAYLOAD_7)
    card = parse_cccd_qr("\ufeff" + decomposed + "\r\n", today=TODAY)
    assert card.full_name == "Nguyễn Văn An"
    assert unicodedata.is_normalized("NFC", card.full_name)
    assert unicodedata.is_normalized("NFC", card.address)


def test_empty_issue_date_gives_none():
    card = parse_cccd_qr(PAYLOAD_7.rsplit("|", 1)[0] + "|", today=TODAY)
    assert card.issued is None


@pytest.mark.parametrize(
    "payload",
    [
        "001090012345|012345678|Nguyễn Văn An|15031990|Nam",  # 5 fields
        PAYLOAD_7 + "|extra",  # 8 fields
        "hello world",
        "",
    ],
)
def test_wrong_field_count_is_refused_in_vietnamese(payload):
    with pytest.raises(CccdError, match="6 hoặc 7"):
        parse_cccd_qr(payload, today=TODAY)


def test_impossible_birth_date_in_payload_is_refused():
    with pytest.raises(CccdError, match="không có thật"):
        parse_cccd_qr(PAYLOAD_7.replace("15031990", "31021990"), today=TODAY)


def test_malformed_birth_date_in_payload_is_refused():
    with pytest.raises(CccdError, match="ngày sinh"):
        parse_cccd_qr(PAYLOAD_7.replace("15031990", "1990-03-15"), today=TODAY)


@pytest.mark.parametrize("number", ["0010900123456", "00109001234", "00109001234A", "ABCDEFGHIJKL"])
def test_payload_with_a_wrong_number_is_refused(number):
    with pytest.raises(CccdError, match="12 chữ số"):
        parse_cccd_qr(PAYLOAD_7.replace("001090012345", number), today=TODAY)


def test_payload_whose_number_disagrees_with_birth_year_is_refused():
    with pytest.raises(CccdError, match="sinh năm 1991"):
        parse_cccd_qr(PAYLOAD_7.replace("001090012345", "001091012345"), today=TODAY)


def test_payload_with_unknown_sex_is_refused():
    with pytest.raises(CccdError, match="giới tính"):
        parse_cccd_qr(PAYLOAD_7.replace("|Nam|", "|X|"), today=TODAY)


def test_cccd_error_is_a_value_error():
    assert issubclass(CccdError, ValueError)


def test_valid_number_is_returned_cleaned():
    assert validate_cccd_number("001 090 012 345", today=TODAY) == "001090012345"
    assert validate_cccd_number("001.090.012.345", date(1990, 3, 15), today=TODAY) == "001090012345"


@pytest.mark.parametrize("text", ["0010900123456", "00109001234", ""])
def test_number_that_is_not_twelve_digits_is_refused(text):
    with pytest.raises(CccdError):
        validate_cccd_number(text, today=TODAY)


def test_thirteen_digit_number_message_counts_the_digits():
    with pytest.raises(CccdError, match="13 chữ số"):
        validate_cccd_number("0010900123456", today=TODAY)


def test_letters_in_number_are_refused():
    with pytest.raises(CccdError, match="chỉ gồm chữ số"):
        validate_cccd_number("00109001234O", today=TODAY)


@pytest.mark.parametrize("code", ["000", "003", "005", "097", "099", "100"])
def test_unknown_province_code_is_refused(code):
    with pytest.raises(CccdError, match="mã tỉnh"):
        validate_cccd_number(code + "090012345", today=TODAY)


def test_there_are_63_province_codes():
    assert len(PROVINCE_CODES) == 63
    assert PROVINCE_CODES["001"] == "Hà Nội"
    assert PROVINCE_CODES["079"] == "Thành phố Hồ Chí Minh"
    assert all(len(code) == 3 and code.isdigit() for code in PROVINCE_CODES)


def test_century_and_sex_digit_is_decoded():
    assert (
        decode_cccd_number("001090012345", today=TODAY).birth_year,
        decode_cccd_number("001090012345", today=TODAY).sex,
    ) == (1990, "Nam")
    info = decode_cccd_number("079305001234", today=TODAY)
    assert (info.century_start, info.birth_year, info.sex, info.province) == (
        2000,
        2005,
        "Nữ",
        "Thành phố Hồ Chí Minh",
    )
    assert decode_cccd_number("001190012345", today=TODAY).sex == "Nữ"


def test_year_mismatch_with_birth_date_is_refused():
    with pytest.raises(CccdError, match="sinh năm 1995"):
        validate_cccd_number("001095012345", date(1990, 3, 15), today=TODAY)


def test_century_mismatch_with_birth_date_is_refused():
    # Digit 4 = 2 means born in the 21st century: 2005, not 1905.
    with pytest.raises(CccdError, match="sinh năm 2005"):
        validate_cccd_number("001205012345", date(1905, 1, 1), today=TODAY)


def test_birth_year_in_the_future_is_refused():
    with pytest.raises(CccdError, match="năm chưa tới"):
        validate_cccd_number("001430012345", today=TODAY)  # 22nd century
    with pytest.raises(CccdError, match="năm chưa tới"):
        validate_cccd_number("001299012345", today=TODAY)  # 2099
