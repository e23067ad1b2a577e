"""Looking a dossier up: by code or QR payload, personal data only for the applicant."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from motcua.dossiers.errors import DossierError, DossierNotFound
from motcua.dossiers.service import Applicant, parse_lookup_payload
from tests.dossiers.support import application

CODE = "000.00.04.H51-260310-0001"


def _file(service, db) -> str:
    code = db.run(service.file_dossier, application()).code
    db.run(service.request_supplement, code, "Thiếu giấy chứng sinh của cháu Nguyễn Minh An.", actor="staff:Hà")
    return code


@pytest.fixture
def filed(service, db) -> str:
    """A dossier waiting for a supplement, on SQLite and PostgreSQL."""
    return _file(service, db)


@pytest.fixture
def filed_here(sqlite_service, sqlite_db) -> str:
    """The same on SQLite only, for checks that do not depend on the database."""
    return _file(sqlite_service, sqlite_db)


def _personal_strings(view) -> str:
    return repr(asdict(view))


def test_lookup_without_the_applicants_numbers_shows_only_safe_fields(service, filed, db):
    view = db.run(service.lookup, filed)
    assert (view.code, view.procedure_name, view.status_label) == (filed, "", "Cần bổ sung hồ sơ")
    assert not view.verified
    shown = _personal_strings(view) + view.describe()
    for secret in ("Nguyễn Thị Lan", "001190012345", "0912345678", "Nguyễn Minh An", "staff:Hà", "telegram:42",
                   "Đăng ký khai sinh", "1.001193"):
        assert secret not in shown
    assert "mã tra cứu" in view.describe() and "cả số căn cước và số điện thoại" in view.describe()


@pytest.mark.parametrize("proof", [{"cccd": "001 190 012 345", "phone": "+84 912 345 678"},
                                   {"cccd": "001190012345", "phone": "0912.345.678"}])
def test_lookup_with_the_matching_cccd_and_phone_shows_the_details(sqlite_service, filed_here, proof, sqlite_db):
    view = sqlite_db.run(sqlite_service.lookup, filed_here, **proof)
    assert view.verified
    assert view.applicant_name == "Nguyễn Thị Lan"
    assert view.applicant_cccd == "001*******45" and view.applicant_phone == "091*****78"
    assert view.procedure_name == "Đăng ký khai sinh"
    assert "Cần bổ sung: Thiếu giấy chứng sinh của cháu Nguyễn Minh An." in view.describe()
    assert [h.status for h in view.history] == ["received", "supplement_requested"]
    assert all(h.actor == "" for h in view.history)  # staff names stay inside


def test_a_wrong_number_gets_the_safe_fields_and_says_so(service, filed, db):
    view = db.run(service.lookup, filed, cccd="001190099999", phone="0987654321")
    assert not view.verified and view.applicant_name == ""
    assert "không khớp" in view.describe()


def test_lookup_of_a_code_in_another_format_or_unknown_says_what_to_do(sqlite_service, filed_here, sqlite_db):
    with pytest.raises(DossierError, match="không phải mã số hồ sơ.*000.00.04.H51-200221-0001"):
        sqlite_db.run(sqlite_service.lookup, "HS-2026-000123")
    with pytest.raises(DossierError, match="không phải ngày có thật"):
        sqlite_db.run(sqlite_service.lookup, "000.00.04.H51-261399-0001")
    with pytest.raises(DossierNotFound, match="Không tìm thấy hồ sơ mã 000.00.04.H51-260310-0002"):
        sqlite_db.run(sqlite_service.lookup, "000.00.04.h51 - 260310 - 0002")
    assert sqlite_db.run(sqlite_service.lookup, filed_here.lower()).code == filed_here


def test_qr_payloads_from_the_receipt_and_links_are_read():
    assert parse_lookup_payload(CODE, scanned=True) == CODE
    assert parse_lookup_payload(f"\ufeff{CODE}\r\n", scanned=True) == CODE
    assert parse_lookup_payload(f"MOTCUA:{CODE}", scanned=True) == CODE
    assert parse_lookup_payload(f"https://motcua.example.vn/tra-cuu?ma={CODE}", scanned=True) == CODE
    assert parse_lookup_payload(f"https://motcua.example.vn/ho-so/{CODE}", scanned=True) == CODE


@pytest.mark.parametrize("payload", [
    "001190012345|012345678|Nguyễn Thị Lan|01011990|Nữ|Hà Nội|01012021",  # a CCCD card's QR
    "https://zalo.me/g/abcdef",
    "WIFI:S:TrungTam;T:WPA;P:12345678;;",
    "\x00\x01\x02",
])
def test_a_malformed_qr_payload_gets_a_clear_message(payload):
    with pytest.raises(DossierError, match="Mã QR vừa quét không chứa mã số hồ sơ"):
        parse_lookup_payload(payload, scanned=True)


def test_a_malformed_qr_payload_stores_and_reveals_nothing(sqlite_service, filed_here, sqlite_db):
    with pytest.raises(DossierError, match="Mã QR vừa quét không chứa mã số hồ sơ") as caught:
        sqlite_db.run(sqlite_service.lookup, f"{filed_here}|Nguyễn Thị Lan", scanned=True)
    assert filed_here not in str(caught.value)


def test_an_empty_lookup_asks_for_the_code():
    with pytest.raises(DossierError, match="Xin ông/bà cho biết mã số hồ sơ"):
        parse_lookup_payload("   ")


def test_a_lost_code_needs_both_numbers_whatever_the_conversation(service, filed, db):
    other = db.run(service.file_dossier, application(applicant=Applicant("Trần Văn Bình", "001090054321", "0987654321"),
                                             sender_id="telegram:77")).code
    both = db.run(service.find_for_applicant, cccd="001190012345", phone="0912345678")
    assert [v.code for v in both] == [filed] and both[0].verified
    assert db.run(service.find_for_applicant, cccd="001190012345") == []
    assert db.run(service.find_for_applicant, phone="0912345678", sender_id="telegram:77") == []
    # a sender id is chosen by the client (REST, kiosk socket): it no longer stands in for a number
    assert db.run(service.find_for_applicant, phone="0912345678", sender_id="telegram:42") == []
    assert db.run(service.find_for_applicant, cccd="001090054321", sender_id="telegram:77") == []
    assert [v.code for v in db.run(service.find_for_applicant, cccd="001090054321", phone="0987654321")] == [other]
    assert db.run(service.find_for_applicant, cccd="001190012345", phone="0987654321") == []
