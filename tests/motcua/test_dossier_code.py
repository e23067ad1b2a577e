"""Dossier codes in the national format <agency>-<yymmdd>-<seq>."""

from __future__ import annotations

import re
from datetime import date

import pytest

from motcua.dossier_code import (
    DOSSIER_CODE_PATTERN,
    DossierCode,
    DossierCodeError,
    find_dossier_codes,
    format_dossier_code,
    parse_dossier_code,
)


def test_format_matches_the_national_example():
    assert format_dossier_code("000.00.04.H51", date(2020, 2, 21), 1) == "000.00.04.H51-200221-0001"


@pytest.mark.parametrize(
    ("agency", "day", "seq"),
    [
        ("000.00.04.H51", date(2020, 2, 21), 1),
        ("000.00.00.H00", date(2026, 12, 31), 9999),
        ("H51.22", date(2026, 2, 23), 42),
        ("000.25.12.H01", date(2099, 1, 1), 1234),
    ],
)
def test_dossier_code_round_trip(agency, day, seq):
    text = format_dossier_code(agency, day, seq)
    assert parse_dossier_code(text) == DossierCode(agency, day, seq)
    assert str(parse_dossier_code(text)) == text


def test_citizen_typing_is_tolerated():
    assert parse_dossier_code(" 000.00.04.h51 - 200221 - 0001. ") == DossierCode(
        "000.00.04.H51", date(2020, 2, 21), 1
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hồ sơ của tôi",
        "000.00.04.H51-200221-001",  # 3-digit sequence
        "000.00.04.H51-20200221-0001",  # 8-digit date
        "000.00.04.H51_200221_0001",
        "200221-0001",
        "G22.000.00.04.H51.99-200221-0001",  # six agency groups
        "000.00.04.H51-200221-00012",
        "001090012345",  # a CCCD number, not a dossier code
    ],
)
def test_other_formats_are_refused_in_vietnamese(text):
    with pytest.raises(DossierCodeError, match="không phải mã số hồ sơ"):
        parse_dossier_code(text)


def test_impossible_date_is_refused():
    with pytest.raises(DossierCodeError, match="không phải ngày có thật"):
        parse_dossier_code("000.00.04.H51-200231-0001")


def test_sequence_zero_is_refused():
    with pytest.raises(DossierCodeError, match="0000"):
        parse_dossier_code("000.00.04.H51-200221-0000")


def test_dossier_code_error_is_a_value_error():
    assert issubclass(DossierCodeError, ValueError)


@pytest.mark.parametrize(
    ("agency", "day", "seq"),
    [
        ("000.00.04.H51", date(2020, 2, 21), 0),
        ("000.00.04.H51", date(2020, 2, 21), 10000),
        ("000.00.04.H51", date(1999, 12, 31), 1),
        ("bad agency", date(2020, 2, 21), 1),
        ("000-00", date(2020, 2, 21), 1),
        ("000.00.04.H51", date(2020, 2, 21), True),
    ],
)
def test_format_refuses_bad_arguments(agency, day, seq):
    with pytest.raises(ValueError):
        format_dossier_code(agency, day, seq)


def test_shared_pattern_finds_codes_in_a_sentence():
    sentence = "Cho tôi hỏi hồ sơ 000.00.04.H51-200221-0001 và H51.22-260223-0042 đã xong chưa?"
    assert re.findall(DOSSIER_CODE_PATTERN, sentence) == ["000.00.04.H51-200221-0001", "H51.22-260223-0042"]
    assert [str(c) for c in find_dossier_codes(sentence)] == [
        "000.00.04.H51-200221-0001",
        "H51.22-260223-0042",
    ]


def test_shared_pattern_has_no_groups_and_ignores_longer_numbers():
    assert re.compile(DOSSIER_CODE_PATTERN).groups == 0
    assert not re.search(DOSSIER_CODE_PATTERN, "000.00.04.H51-200221-00012")
    assert not re.search(DOSSIER_CODE_PATTERN, "số căn cước 001090012345")
