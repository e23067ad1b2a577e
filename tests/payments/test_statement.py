"""Reading a bank statement as banks export it, and finding dossier codes in transfer notes."""

from __future__ import annotations

from datetime import datetime

import pytest

from motcua.payments.service import codes_in_note
from motcua.payments.statement import parse_amount, parse_booked_at, read_statement
from motcua.workdays import VIETNAM_TZ

AGENCY = "000.00.04.H51"


@pytest.mark.parametrize(("text", "amount"), [
    ("8000", 8000), ("8.000", 8000), ("8,000", 8000), ("8.000 đ", 8000), ("8000.00", 8000), ("+1.250.000 VND", 1250000),
    ("-8.000", None), ("8.5", None), ("tám nghìn", None), ("", None), ("8.0000", None)])
def test_amounts_are_read_as_banks_write_them(text, amount):
    assert parse_amount(text) == amount


def test_dates_with_or_without_a_time_are_vietnam_time():
    assert parse_booked_at("10/03/2026 14:05") == datetime(2026, 3, 10, 14, 5, tzinfo=VIETNAM_TZ)
    assert parse_booked_at("2026-03-10") == datetime(2026, 3, 10, tzinfo=VIETNAM_TZ)
    assert parse_booked_at("31/02/2026") is None


def test_a_vietnamese_header_with_semicolons_is_understood_and_bad_lines_kept():
    text = ("\ufeffNgày giao dịch;Nội dung;Số tiền ghi có\n"
            "10/03/2026 09:45;000.00.04.H51-260310-0001 khai sinh;8.000\n"
            ";;\n"
            "hôm qua;abc;5.000\n"
            "10/03/2026;abc;-5.000\n")
    lines = read_statement(text)
    assert [line.line_number for line in lines] == [2, 4, 5]
    first = lines[0]
    assert (first.amount, first.note, first.problem) == (8000, "000.00.04.H51-260310-0001 khai sinh", "")
    assert "ngày «hôm qua»" in lines[1].problem and "số tiền «-5.000»" in lines[2].problem


def test_without_a_header_the_columns_are_date_amount_note():
    (line,) = read_statement("2026-03-10,8000,MA HS 000.00.04.H51-260310-0001\n")
    assert (line.amount, line.note) == (8000, "MA HS 000.00.04.H51-260310-0001")


def test_the_same_file_gives_the_same_keys_and_two_identical_transfers_differ():
    text = "2026-03-10,8000,HS 0001\n2026-03-10,8000,HS 0001\n"
    first, second = read_statement(text)
    assert first.key != second.key
    assert [line.key for line in read_statement(text)] == [first.key, second.key]


def test_a_bank_reference_is_the_key_when_there_is_one():
    one = read_statement("date,amount,note,ref\n2026-03-10,8000,HS,FT2606912345\n")[0]
    again = read_statement("date,amount,note,ref\n10/03/2026,8.000,HS,FT2606912345\n")[0]
    assert one.key == again.key


@pytest.mark.parametrize("note", [
    "000.00.04.H51-260310-0001", "CT DEN:0123 000.00.04.H51-260310-0001 Nguyen Thi Lan",
    "0000004H51-260310-0001", "000 00 04 H51 260310 0001 chuyen khoan", "0000004H512603100001"])
def test_a_code_is_found_in_the_note_even_when_the_bank_dropped_its_dots(note):
    assert codes_in_note(note, AGENCY) == ["000.00.04.H51-260310-0001"]


def test_a_note_without_a_code_finds_none():
    assert codes_in_note("chuyen tien hoc phi 260310 0001", AGENCY) == []
