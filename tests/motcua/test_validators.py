"""Validators for citizens' answers: each returns a cleaned value or a Vietnamese reason."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from motcua.validators import (
    Validation,
    is_skip_answer,
    parse_date_vi,
    validate_address,
    validate_birth_date,
    validate_birth_date_or_year,
    validate_choice,
    validate_date,
    validate_number,
    validate_person_name,
    validate_phone,
    validate_text,
)

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    "text",
    [
        "15/03/2024",
        "15/3/2024",
        "15-03-2024",
        "15.03.2024",
        "15 3 2024",
        "15032024",
        "2024-03-15",
        "15 tháng 3 năm 2024",
        "ngày 15 tháng 03 năm 2024",
        "Ngày 15 tháng 3, năm 2024.",
        "15 thang 3 nam 2024",
        "ngay 15 thang 03 nam 2024",
        "15 tháng ba năm 2024",
        unicodedata.normalize("NFD", "ngày 15 tháng 3 năm 2024"),
        "  15 / 03 / 2024 ",
    ],
)
def test_vietnamese_date_forms_are_read(text):
    assert parse_date_vi(text, TODAY) == Validation(date(2024, 3, 15), "")


def test_month_five_in_words_is_not_confused_with_year_word():
    assert parse_date_vi("1 tháng năm năm 2024", TODAY).value == date(2024, 5, 1)


def test_two_digit_year_is_read_as_the_latest_past_year():
    assert parse_date_vi("15/3/90", TODAY).value == date(1990, 3, 15)
    assert parse_date_vi("15/3/24", TODAY).value == date(2024, 3, 15)
    assert parse_date_vi("15/3/27", TODAY, prefer_past=False).value == date(2027, 3, 15)


def test_thirty_first_of_february_is_refused_with_a_reason():
    result = parse_date_vi("31/02/2024", TODAY)
    assert not result.ok and result.value is None
    assert "không có thật" in result.reason
    assert "29 ngày" in result.reason


def test_month_thirteen_is_refused():
    assert "12 tháng" in parse_date_vi("12/13/2024", TODAY).reason


def test_date_without_year_asks_for_the_year():
    assert "cả năm" in parse_date_vi("15/3", TODAY).reason
    assert "cả năm" in parse_date_vi("15 tháng 3", TODAY).reason


def test_unreadable_date_explains_the_expected_form():
    result = parse_date_vi("mùa xuân năm ngoái", TODAY)
    assert not result.ok and "ngày/tháng/năm" in result.reason


def test_today_and_yesterday_words():
    assert parse_date_vi("hôm nay", TODAY).value == TODAY
    assert parse_date_vi("hom qua", TODAY).value == date(2026, 11, 24)


def test_date_when_past_refuses_future():
    assert validate_date("01/01/2027", TODAY, when="past").reason
    assert validate_date("01/01/2027", TODAY, when="future").value == date(2027, 1, 1)
    assert "đã qua" in validate_date("01/01/2020", TODAY, when="future").reason


def test_future_birth_date_is_refused():
    result = validate_birth_date("01/12/2026", TODAY)
    assert not result.ok and "chưa tới" in result.reason


def test_birth_date_older_than_130_years_is_refused():
    assert "130" in validate_birth_date("01/01/1890", TODAY).reason
    assert validate_birth_date("26/11/1896", TODAY).ok


def test_birth_date_accepts_a_date_object():
    assert validate_birth_date(date(1990, 3, 15), TODAY).value == date(1990, 3, 15)


@pytest.mark.parametrize("text", ["1945", "năm 1945", "Sinh năm 1945", "nam 1945", " 1945. ", 1945])
def test_a_year_of_birth_alone_is_kept_as_the_year(text):
    result = validate_birth_date_or_year(text, TODAY)
    assert result.ok and result.value == 1945 and result.slot_value == 1945


def test_a_full_birth_date_is_still_read_as_a_date_where_a_year_would_do():
    assert validate_birth_date_or_year("12/3/1945", TODAY).value == date(1945, 3, 12)
    assert validate_birth_date_or_year(date(1945, 3, 12), TODAY).value == date(1945, 3, 12)
    assert validate_birth_date_or_year("15032024", TODAY).value == date(2024, 3, 15)


def test_a_year_of_birth_in_the_future_or_too_long_ago_is_refused():
    assert "chưa tới" in validate_birth_date_or_year("2027", TODAY).reason
    assert "130" in validate_birth_date_or_year("1890", TODAY).reason
    assert validate_birth_date_or_year("1896", TODAY).ok
    assert "chưa tới" in validate_birth_date_or_year("01/12/2026", TODAY).reason


def test_a_year_or_date_answer_that_is_neither_is_asked_again():
    assert not validate_birth_date_or_year("khoảng 80 tuổi", TODAY).ok
    assert not validate_birth_date_or_year("194", TODAY).ok
    with pytest.raises(TypeError):
        validate_birth_date_or_year(True, TODAY)  # type: ignore[arg-type]


def test_slot_value_of_a_date_is_iso():
    assert parse_date_vi("15/3/2024", TODAY).slot_value == "2024-03-15"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("+84912345678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0084 912 345 678", "0912345678"),
        ("(+84) 38-123-4567", "0381234567"),
        ("024 3825 1234", "02438251234"),
        ("+84 24 3825 1234", "02438251234"),
    ],
)
def test_phone_numbers_are_normalised_to_national_form(text, expected):
    assert validate_phone(text) == Validation(expected, "")


@pytest.mark.parametrize(
    "text", ["091234567", "09123456789", "0112345678", "+1 202 555 0100", "0912abc678", "", "1900 1234"]
)
def test_bad_phone_numbers_are_refused_with_a_reason(text):
    result = validate_phone(text)
    assert not result.ok and result.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nguyễn văn  an", "Nguyễn Văn An"),
        ("NGUYỄN THỊ MINH KHAI", "Nguyễn Thị Minh Khai"),
        ("  trần   đức  thắng ", "Trần Đức Thắng"),
        (unicodedata.normalize("NFD", "phạm thị hương"), "Phạm Thị Hương"),
        ("h’hen niê", "H'Hen Niê"),
        ("nguyen van an", "Nguyen Van An"),
        ("Tôn Nữ Thị Ngọc Bích Vân", "Tôn Nữ Thị Ngọc Bích Vân"),
    ],
)
def test_person_names_are_normalised(text, expected):
    result = validate_person_name(text)
    assert result == Validation(expected, "")
    assert unicodedata.is_normalized("NFC", result.value)


@pytest.mark.parametrize(
    "text", ["Nguyễn Văn 2", "Nguyễn @n", "An", "", "李小龙 Lý", "Nguyễn Văn An Bình Minh Quang Huy Tùng"]
)
def test_bad_person_names_are_refused_with_a_reason(text):
    result = validate_person_name(text)
    assert not result.ok and result.reason


def test_choice_matches_case_accents_and_number():
    choices = ["Nam", "Nữ"]
    assert validate_choice("nữ", choices).value == "Nữ"
    assert validate_choice("nu", choices).value == "Nữ"
    assert validate_choice("NAM", choices).value == "Nam"
    assert validate_choice("2", choices).value == "Nữ"
    assert "Nam, Nữ" in validate_choice("không biết", choices).reason


def test_choice_exact_spelling_wins_over_accentless_match():
    assert validate_choice("Bà", ["Ba", "Bà"]).value == "Bà"
    assert validate_choice("ba", ["Ba", "Bà"]).value == "Ba"


def test_choice_matches_a_word_group_inside_one_choice():
    choices = ["Chưa đăng ký kết hôn với ai", "Đã ly hôn, hiện chưa kết hôn lại"]
    assert validate_choice("ly hôn", choices).value == choices[1]


def test_choice_needs_choices():
    with pytest.raises(ValueError):
        validate_choice("a", [])


def test_text_is_tidied_and_limited():
    assert validate_text("  Kinh  ").value == "Kinh"
    assert not validate_text("   ").ok
    result = validate_text("x" * 41, max_length=40)
    assert "tối đa 40" in result.reason


def test_address_needs_more_than_one_word():
    assert validate_address("Thôn 3, xã Ea Kao, tỉnh Đắk Lắk").ok
    assert not validate_address("HN").ok


def test_number_accepts_digits_and_words():
    assert validate_number("lần thứ 2", min_value=1).value == 2
    assert validate_number("lần thứ hai").value == 2
    assert validate_number("một").value == 1
    assert not validate_number("0", min_value=1).ok
    assert not validate_number("nhiều lần").ok


def test_skip_answers_are_recognised():
    assert is_skip_answer("Không có")
    assert is_skip_answer("bỏ qua")
    assert not is_skip_answer("Kinh")
