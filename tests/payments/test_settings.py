"""The center's receiving account in the settings: all three or none; anything else stops start-up."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from motcua.settings import Settings

FULL = {"payment_bank_bin": "970436", "payment_account_number": "0011001234567",
        "payment_account_name": "TRUNG TAM PHUC VU HCC"}


def test_no_account_means_payments_by_qr_are_off(tmp_path):
    assert Settings(data_dir=tmp_path).payment_account is None


def test_a_full_account_is_the_receiving_account(tmp_path):
    account = Settings(data_dir=tmp_path, **FULL).payment_account
    assert (account.bank_bin, account.account_number, account.account_name) == \
        ("970436", "0011001234567", "TRUNG TAM PHUC VU HCC")


@pytest.mark.parametrize("left_out", sorted(FULL))
def test_a_partly_set_account_is_refused_naming_what_is_missing(tmp_path, left_out):
    partial = {k: v for k, v in FULL.items() if k != left_out}
    with pytest.raises(ValidationError, match=f"mới đặt một phần.*MOTCUA_{left_out.upper()}"):
        Settings(data_dir=tmp_path, **partial)


@pytest.mark.parametrize(("field", "value", "says"), [
    ("payment_bank_bin", "97043", "gồm đúng 6 chữ số"),
    ("payment_bank_bin", "VCB", "gồm đúng 6 chữ số"),
    ("payment_account_number", "   ", "còn thiếu MOTCUA_PAYMENT_ACCOUNT_NUMBER"),
    ("payment_account_number", "0011 0012", "chỉ gồm chữ số hoặc chữ cái"),
])
def test_a_malformed_account_stops_start_up_with_a_vietnamese_message(tmp_path, field, value, says):
    with pytest.raises(ValidationError, match=says):
        Settings(data_dir=tmp_path, **{**FULL, field: value})


def test_the_environment_is_checked_too(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTCUA_PAYMENT_BANK_BIN", "12345")
    monkeypatch.setenv("MOTCUA_PAYMENT_ACCOUNT_NUMBER", "0011001234567")
    monkeypatch.setenv("MOTCUA_PAYMENT_ACCOUNT_NAME", "TRUNG TAM")
    with pytest.raises(ValidationError, match="MOTCUA_PAYMENT_BANK_BIN"):
        Settings(data_dir=tmp_path)
