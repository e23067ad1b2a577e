"""The VietQR payload: built to the NAPAS/EMVCo layout, read back tag by tag, its CRC recomputed."""

from __future__ import annotations

import pytest

from motcua.payments.vietqr import (
    ReceivingAccount,
    VietQRError,
    account_problem,
    build_payload,
    crc16_ccitt_false,
    decode_payload,
    parse_fields,
)

ACCOUNT = ReceivingAccount("970436", "0011001234567", "TRUNG TAM PHUC VU HCC")
CODE = "000.00.04.H51-260310-0001"


def test_the_crc_is_ccitt_false_by_its_check_value():
    assert crc16_ccitt_false(b"123456789") == 0x29B1
    assert crc16_ccitt_false(b"") == 0xFFFF


@pytest.mark.parametrize("payload", [
    # payloads made by payment services in use in Vietnam (published in their documentation and code)
    "00020101021238570010A000000727012700069704220113VQRQAFGHB37900208QRIBFTTA530370454068970005802VN"
    "62200816EXT17629982226606304E403",
    "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN"
    "62340107NPS68690819thanh toan don hang63042E2E",
])
def test_payloads_made_by_others_decode_and_their_crc_agrees(payload):
    decoded = decode_payload(payload)
    assert decoded.guid == "A000000727" and decoded.service == "QRIBFTTA" and decoded.dynamic


def test_the_payload_has_every_field_of_the_layout_in_order():
    payload = build_payload(ACCOUNT, 8000, CODE)
    top = parse_fields(payload)
    assert [tag for tag, _ in top] == ["00", "01", "38", "53", "54", "58", "62", "63"]
    fields = dict(top)
    assert fields["00"] == "01" and fields["01"] == "12" and fields["53"] == "704"
    assert fields["54"] == "8000" and fields["58"] == "VN"
    merchant = parse_fields(fields["38"])
    assert merchant == [("00", "A000000727"), ("01", "0006970436" + "0113" + "0011001234567"),
                        ("02", "QRIBFTTA")]
    assert parse_fields(dict(merchant)["01"]) == [("00", "970436"), ("01", "0011001234567")]
    assert parse_fields(fields["62"]) == [("08", CODE)]
    assert payload[-8:-4] == "6304" and fields["63"] == f"{crc16_ccitt_false(payload[:-4].encode()):04X}"
    assert fields["63"] == fields["63"].upper() and len(fields["63"]) == 4


def test_decoding_gives_back_what_was_asked():
    decoded = decode_payload(build_payload(ACCOUNT, 1_250_000, CODE))
    assert (decoded.bank_bin, decoded.account_number, decoded.amount, decoded.note) == \
        ("970436", "0011001234567", 1_250_000, CODE)


def test_a_changed_digit_breaks_the_crc():
    payload = build_payload(ACCOUNT, 8000, CODE)
    tampered = payload.replace("54048000", "54049000")
    assert tampered != payload
    with pytest.raises(VietQRError, match="CRC"):
        decode_payload(tampered)


def test_a_field_longer_than_the_text_is_refused():
    with pytest.raises(VietQRError, match="announces"):
        parse_fields("000201010212380599")


@pytest.mark.parametrize("amount", [0, -8000, True, 8000.0, 10**13])
def test_only_a_positive_whole_number_of_dong_is_an_amount(amount):
    with pytest.raises(VietQRError):
        build_payload(ACCOUNT, amount, CODE)


@pytest.mark.parametrize(("note", "problem"), [
    ("", "trống"), ("khai sinh bé Lan", "không dấu"), ("X" * 26, "tối đa 25"), ("a;b", "không dấu")])
def test_a_note_banks_would_change_is_refused(note, problem):
    with pytest.raises(VietQRError, match=problem):
        build_payload(ACCOUNT, 8000, note)


@pytest.mark.parametrize(("args", "variable"), [
    (("97043", "001", "A"), "MOTCUA_PAYMENT_BANK_BIN"),
    (("97043A", "001", "A"), "MOTCUA_PAYMENT_BANK_BIN"),
    (("970436", "  ", "A"), "MOTCUA_PAYMENT_ACCOUNT_NUMBER"),
    (("970436", "0011-0012", "A"), "MOTCUA_PAYMENT_ACCOUNT_NUMBER"),
    (("970436", "1" * 20, "A"), "MOTCUA_PAYMENT_ACCOUNT_NUMBER"),
    (("970436", "001", " "), "MOTCUA_PAYMENT_ACCOUNT_NAME"),
])
def test_a_bad_account_names_the_setting_to_fix(args, variable):
    assert variable in (account_problem(*args) or "")
    with pytest.raises(VietQRError, match=variable):
        ReceivingAccount(*args)
