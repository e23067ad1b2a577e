"""``motcua fees``: the VietQR payload for the configured account, a statement imported from a file."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

from motcua.db import shared_database, upgrade_database
from motcua.dossiers.service import DossierService
from motcua.payments.vietqr import decode_payload
from motcua.settings import ROOT
from tests.dossiers.support import application
from tests.payments.conftest import ACCOUNT, seed_payment_procedures

ACCOUNT_ENV = {"MOTCUA_PAYMENT_BANK_BIN": ACCOUNT.bank_bin, "MOTCUA_PAYMENT_ACCOUNT_NUMBER": ACCOUNT.account_number,
               "MOTCUA_PAYMENT_ACCOUNT_NAME": ACCOUNT.account_name}


def motcua(*args: str, data_dir, account: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update({"MOTCUA_DATA_DIR": str(data_dir), "COLUMNS": "200", **(ACCOUNT_ENV if account else {})})
    return subprocess.run([sys.executable, "-m", "motcua.cli", "fees", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_vietqr_prints_a_payload_for_the_configured_account_as_its_last_line(tmp_path):
    result = motcua("vietqr", "--amount", "8000", "--note", "000.00.04.H51-260310-0001", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    decoded = decode_payload(result.stdout.strip().splitlines()[-1])
    assert (decoded.bank_bin, decoded.account_number, decoded.amount, decoded.note) == \
        ("970436", "0011001234567", 8000, "000.00.04.H51-260310-0001")
    assert "8.000 đồng" in result.stdout


def test_vietqr_without_an_account_or_with_a_bad_note_says_why(tmp_path):
    result = motcua("vietqr", "--amount", "8000", "--note", "HS1", data_dir=tmp_path, account=False)
    assert result.returncode == 1 and "MOTCUA_PAYMENT_BANK_BIN" in result.stdout
    result = motcua("vietqr", "--amount", "8000", "--note", "phí khai sinh", data_dir=tmp_path)
    assert result.returncode == 1 and "không dấu" in result.stdout


def test_import_statement_reports_every_line_and_pays_the_matching_dossier(tmp_path):
    url = f"sqlite:///{tmp_path / 'motcua.sqlite3'}"  # the data directory's database
    upgrade_database(url)
    seed_payment_procedures(url)
    values = {"birth_child_name": "Nguyễn Minh An", "birth_child_birth_date": date(2020, 5, 1)}  # years late
    db = shared_database(url)
    code = db.run(DossierService(agency_code="000.00.00.H00").file_dossier,
        application(values=values, form_id="birth_registration", channel="counter", sender_id="")).code
    statement = tmp_path / "saoke.csv"
    statement.write_text(f"Ngày,Số tiền,Nội dung\n10/03/2026 10:12,8.000,{code} Nguyen Thi Lan\n"
                         "10/03/2026 10:13,20.000,chuyen tien nha\n", encoding="utf-8")

    result = motcua("import-statement", str(statement), data_dir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"✓ dòng 2: khớp, đã ghi nộp phí → {code}" in out
    assert "✗ dòng 3: không khớp hồ sơ nào (20.000 đồng, «chuyen tien nha»): nội dung không có mã hồ sơ" in out
    assert out.strip().splitlines()[-1].startswith("2 dòng")
    shown = motcua("show", code, data_dir=tmp_path).stdout
    assert "Đã nộp phí, 8.000 đồng, chuyển khoản (VietQR), 10/03/2026 10:12, cli" in shown
    again = motcua("import-statement", str(statement), data_dir=tmp_path).stdout
    assert "đã nhập trước đây: 2" in again
