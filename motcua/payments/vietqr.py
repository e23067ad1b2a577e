"""The dynamic VietQR payload a citizen scans with any Vietnamese banking app. Plain Python.

The payload is the EMVCo merchant-presented QR layout as NAPAS profiles it for VietQR: a run of
TLV fields, each ``id`` (2 digits) + ``length`` (2 digits) + ``value``, some values themselves a
run of TLV fields::

    00 «01»                      payload format indicator
    01 «12»                      point of initiation: 12 = dynamic (one amount, one transfer)
    38 ─ 00 «A000000727»         NAPAS's GUID
       ├ 01 ─ 00 bank BIN        6 digits (e.g. 970436)
       │    └ 01 account number  the center's account
       └ 02 «QRIBFTTA»           service: transfer to an account
    53 «704»                     currency: Vietnamese đồng (ISO 4217)
    54 amount                    whole đồng
    58 «VN»                      country
    62 ─ 08 note                 the transfer note: the dossier code
    63 CRC                       CRC-16/CCITT-FALSE of everything before it, «6304» included,
                                 as 4 uppercase hex digits

Public API: :func:`crc16_ccitt_false`, :class:`ReceivingAccount`, :func:`account_problem`,
:func:`build_payload`, :func:`decode_payload`, :class:`VietQRError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "NAPAS_GUID",
    "SERVICE_TO_ACCOUNT",
    "DecodedPayload",
    "ReceivingAccount",
    "VietQRError",
    "account_problem",
    "build_payload",
    "crc16_ccitt_false",
    "decode_payload",
    "note_problem",
]

NAPAS_GUID = "A000000727"
SERVICE_TO_ACCOUNT = "QRIBFTTA"
CURRENCY_VND = "704"
COUNTRY_VN = "VN"
MAX_AMOUNT_DIGITS = 13  # EMVCo: tag 54 holds at most 13 characters
MAX_NOTE_LENGTH = 25  # EMVCo: each field of the additional data (tag 62) holds at most 25 characters
MAX_ACCOUNT_LENGTH = 19  # NAPAS account numbers

_BIN = re.compile(r"\d{6}")
_ACCOUNT = re.compile(rf"[0-9A-Za-z]{{1,{MAX_ACCOUNT_LENGTH}}}")
_NOTE = re.compile(r"[0-9A-Za-z .\-_/]+")
"""Characters every bank keeps in a transfer note (no diacritics, no symbols banks strip)."""


class VietQRError(ValueError):
    """A payload that cannot be built or read; the message says what is wrong (staff-facing)."""


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR.

    ``crc16_ccitt_false(b"123456789") == 0x29B1`` (the catalogue check value).
    """
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


@dataclass(frozen=True)
class ReceivingAccount:
    """The center's bank account that citizens' transfers go to (``MOTCUA_PAYMENT_*``)."""

    bank_bin: str
    account_number: str
    account_name: str

    def __post_init__(self) -> None:
        problem = account_problem(self.bank_bin, self.account_number, self.account_name)
        if problem:
            raise VietQRError(problem)


def account_problem(bank_bin: str, account_number: str, account_name: str) -> str | None:
    """Why these settings cannot receive transfers (Vietnamese, naming the variable), or None."""
    if not _BIN.fullmatch(bank_bin or ""):
        return (f"MOTCUA_PAYMENT_BANK_BIN phải là mã BIN ngân hàng gồm đúng 6 chữ số (ví dụ 970436), "  # staff-facing
                f"không phải «{bank_bin}»")
    if not (account_number or "").strip():
        return "MOTCUA_PAYMENT_ACCOUNT_NUMBER (số tài khoản nhận tiền) đang trống"  # staff-facing
    if not _ACCOUNT.fullmatch(account_number):
        return (f"MOTCUA_PAYMENT_ACCOUNT_NUMBER chỉ gồm chữ số hoặc chữ cái không dấu, viết liền, "  # staff-facing
                f"tối đa {MAX_ACCOUNT_LENGTH} ký tự; «{account_number}» không đúng")
    if not (account_name or "").strip():
        return "MOTCUA_PAYMENT_ACCOUNT_NAME (tên chủ tài khoản) đang trống"  # staff-facing
    return None


def note_problem(note: str) -> str | None:
    """Why ``note`` cannot be a transfer note (Vietnamese), or None."""
    if not note:
        return "nội dung chuyển khoản đang trống"  # staff-facing
    if len(note) > MAX_NOTE_LENGTH:
        return f"nội dung chuyển khoản dài {len(note)} ký tự, tối đa {MAX_NOTE_LENGTH}"  # staff-facing
    if not _NOTE.fullmatch(note):
        return (f"nội dung chuyển khoản «{note}» chỉ được gồm chữ không dấu, chữ số, dấu cách "  # staff-facing
                "và . - _ / (ngân hàng bỏ các ký tự khác)")
    return None


def _field(tag: str, value: str) -> str:
    if len(value) > 99:
        raise VietQRError(f"field {tag} is {len(value)} characters long; a VietQR field holds at most 99")
    return f"{tag}{len(value):02d}{value}"


def build_payload(account: ReceivingAccount, amount: int, note: str) -> str:
    """The dynamic VietQR payload asking for ``amount`` đồng to ``account`` with ``note`` as the transfer note.

    Raises :class:`VietQRError` for an amount that is not a positive whole number of đồng or a
    note banks would not carry unchanged.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise VietQRError(f"số tiền phải là số đồng nguyên dương, không phải «{amount}»")  # staff-facing
    if len(str(amount)) > MAX_AMOUNT_DIGITS:
        raise VietQRError(f"số tiền {amount} quá lớn cho mã VietQR")  # staff-facing
    problem = note_problem(note)
    if problem:
        raise VietQRError(problem)
    beneficiary = _field("00", account.bank_bin) + _field("01", account.account_number)
    merchant = _field("00", NAPAS_GUID) + _field("01", beneficiary) + _field("02", SERVICE_TO_ACCOUNT)
    body = (
        _field("00", "01")
        + _field("01", "12")
        + _field("38", merchant)
        + _field("53", CURRENCY_VND)
        + _field("54", str(amount))
        + _field("58", COUNTRY_VN)
        + _field("62", _field("08", note))
        + "6304"
    )
    return body + f"{crc16_ccitt_false(body.encode('ascii')):04X}"


# --- reading a payload back (tests, and checking what a screen shows) ------------------------


def parse_fields(text: str) -> list[tuple[str, str]]:
    """The TLV fields of ``text`` in order, as (tag, value); raises :class:`VietQRError` when malformed."""
    fields: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        head = text[position:position + 4]
        if len(head) < 4 or not head.isdigit():
            raise VietQRError(f"no tag and length at character {position}: «{text[position:position + 8]}»")
        tag, length = head[:2], int(head[2:])
        value = text[position + 4:position + 4 + length]
        if len(value) != length:
            raise VietQRError(f"field {tag} announces {length} characters but {len(value)} remain")
        fields.append((tag, value))
        position += 4 + length
    return fields


@dataclass(frozen=True)
class DecodedPayload:
    """A VietQR payload read tag by tag, its CRC checked."""

    fields: dict[str, str]  # top-level tag → raw value
    bank_bin: str
    account_number: str
    service: str
    guid: str
    amount: int | None
    note: str
    crc: str

    @property
    def dynamic(self) -> bool:
        return self.fields.get("01") == "12"


def decode_payload(payload: str) -> DecodedPayload:
    """Read ``payload`` tag by tag and recompute its CRC; raises :class:`VietQRError` on any mismatch."""
    top = parse_fields(payload)
    tags = [tag for tag, _ in top]
    if len(set(tags)) != len(tags):
        raise VietQRError(f"a tag appears twice: {tags}")
    if not tags or tags[-1] != "63":
        raise VietQRError("the CRC (tag 63) must be the last field")
    fields = dict(top)
    crc = fields["63"]
    if len(crc) != 4:
        raise VietQRError(f"the CRC must be 4 hex digits, got «{crc}»")
    expected = f"{crc16_ccitt_false(payload[:-4].encode('ascii')):04X}"
    if crc != expected:
        raise VietQRError(f"CRC {crc} does not match the payload (computed {expected})")
    if fields.get("00") != "01":
        raise VietQRError(f"payload format indicator (tag 00) must be 01, got {fields.get('00')!r}")
    merchant = dict(parse_fields(fields.get("38", "")))
    beneficiary = dict(parse_fields(merchant.get("01", "")))
    additional = dict(parse_fields(fields.get("62", "")))
    amount = fields.get("54")
    if amount is not None and not amount.isdigit():
        raise VietQRError(f"amount (tag 54) is not a whole number of đồng: «{amount}»")
    return DecodedPayload(
        fields=fields, bank_bin=beneficiary.get("00", ""), account_number=beneficiary.get("01", ""),
        service=merchant.get("02", ""), guid=merchant.get("00", ""),
        amount=int(amount) if amount is not None else None, note=additional.get("08", ""), crc=crc,
    )  # fmt: skip
