"""The chip identity card (thẻ Căn cước công dân / thẻ Căn cước): its number and its QR code.

Plain Python, no framework. Two public functions:

- :func:`validate_cccd_number` — check a 12-digit personal identification number
  (số định danh cá nhân) and return it cleaned, or raise :class:`CccdError`.
- :func:`parse_cccd_qr` — read the text a QR scanner sends from the QR code on the card into a
  :class:`CccdCard`, or raise :class:`CccdError`.

The number's structure (Thông tư 59/2021/TT-BCA, Điều 7; before it Thông tư 07/2016/TT-BCA):
digits 1–3 are the code of the province where the birth was registered, digit 4 encodes the
century of birth and sex, digits 5–6 are the last two digits of the birth year, and digits
7–12 are a random sequence. There is no check digit, so a typo in the last six digits cannot
be detected.

:class:`CccdError` is a ``ValueError`` whose message is polite Vietnamese, ready to show to
the citizen.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

__all__ = [
    "PROVINCE_CODES",
    "CccdCard",
    "CccdError",
    "decode_cccd_number",
    "parse_cccd_qr",
    "validate_cccd_number",
    "CccdNumberInfo",
]

PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội",
    "002": "Hà Giang",
    "004": "Cao Bằng",
    "006": "Bắc Kạn",
    "008": "Tuyên Quang",
    "010": "Lào Cai",
    "011": "Điện Biên",
    "012": "Lai Châu",
    "014": "Sơn La",
    "015": "Yên Bái",
    "017": "Hòa Bình",
    "019": "Thái Nguyên",
    "020": "Lạng Sơn",
    "022": "Quảng Ninh",
    "024": "Bắc Giang",
    "025": "Phú Thọ",
    "026": "Vĩnh Phúc",
    "027": "Bắc Ninh",
    "030": "Hải Dương",
    "031": "Hải Phòng",
    "033": "Hưng Yên",
    "034": "Thái Bình",
    "035": "Hà Nam",
    "036": "Nam Định",
    "037": "Ninh Bình",
    "038": "Thanh Hóa",
    "040": "Nghệ An",
    "042": "Hà Tĩnh",
    "044": "Quảng Bình",
    "045": "Quảng Trị",
    "046": "Thừa Thiên Huế",
    "048": "Đà Nẵng",
    "049": "Quảng Nam",
    "051": "Quảng Ngãi",
    "052": "Bình Định",
    "054": "Phú Yên",
    "056": "Khánh Hòa",
    "058": "Ninh Thuận",
    "060": "Bình Thuận",
    "062": "Kon Tum",
    "064": "Gia Lai",
    "066": "Đắk Lắk",
    "067": "Đắk Nông",
    "068": "Lâm Đồng",
    "070": "Bình Phước",
    "072": "Tây Ninh",
    "074": "Bình Dương",
    "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu",
    "079": "Thành phố Hồ Chí Minh",
    "080": "Long An",
    "082": "Tiền Giang",
    "083": "Bến Tre",
    "084": "Trà Vinh",
    "086": "Vĩnh Long",
    "087": "Đồng Tháp",
    "089": "An Giang",
    "091": "Kiên Giang",
    "092": "Cần Thơ",
    "093": "Hậu Giang",
    "094": "Sóc Trăng",
    "095": "Bạc Liêu",
    "096": "Cà Mau",
}
"""Province codes of the personal identification number: the 63 provinces as they were
when the numbers were defined (numbers are for life, so the 2025 merger of provinces
changes no existing number)."""

_SEPARATORS = re.compile(r"[\s.\-]+")
_DIGITS_12 = re.compile(r"\d{12}")
_OLD_NUMBER = re.compile(r"\d{9}|\d{12}")
_SEXES = {"nam": "Nam", "nữ": "Nữ", "nu": "Nữ"}


class CccdError(ValueError):
    """A card number or QR payload that cannot be accepted; the message is for the citizen."""


@dataclass(frozen=True)
class CccdNumberInfo:
    """What the digits of a personal identification number say."""

    number: str
    province_code: str
    province: str
    century_start: int  # 1900 for the 20th century, 2000 for the 21st …
    sex: str  # "Nam" or "Nữ"
    birth_year: int


@dataclass(frozen=True)
class CccdCard:
    """The data held in the QR code on the front of a chip identity card."""

    number: str
    old_number: str  # the former 9- or 12-digit CMND number, "" when none
    full_name: str
    birth_date: date
    sex: str  # "Nam" or "Nữ"
    address: str  # nơi thường trú
    issued: date | None  # ngày cấp


def decode_cccd_number(text: str, *, today: date | None = None) -> CccdNumberInfo:
    """Split a number into what its digits encode, checking each part.

    Raises :class:`CccdError` (Vietnamese message) when the number is not 12 digits, the
    province code does not exist, or the birth year it encodes lies in the future.
    """
    if not isinstance(text, str):
        raise TypeError(f"CCCD number must be a str, got {type(text).__name__}")
    number = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if not number:
        raise CccdError("Xin ông/bà vui lòng cho biết số căn cước (12 chữ số).")
    if not number.isascii() or not number.isdigit():
        raise CccdError(
            f"Số căn cước chỉ gồm chữ số, nhưng «{text.strip()}» có chữ hoặc ký tự khác. "
            "Xin ông/bà vui lòng nhập lại 12 chữ số in trên thẻ."
        )
    if not _DIGITS_12.fullmatch(number):
        raise CccdError(
            f"Số căn cước phải có đúng 12 chữ số, số ông/bà nhập có {len(number)} chữ số. "
            "Xin ông/bà vui lòng kiểm tra lại trên thẻ."
        )
    province_code = number[:3]
    province = PROVINCE_CODES.get(province_code)
    if province is None:
        raise CccdError(
            f"Ba chữ số đầu «{province_code}» không phải mã tỉnh, thành phố nào trên số căn cước. "
            "Xin ông/bà vui lòng kiểm tra lại số trên thẻ."
        )
    code = int(number[3])
    century_start = 1900 + 100 * (code // 2)
    birth_year = century_start + int(number[4:6])
    today = today or date.today()
    if birth_year > today.year:
        raise CccdError(
            f"Số căn cước {number} cho năm sinh {birth_year}, là năm chưa tới. "
            "Xin ông/bà vui lòng kiểm tra lại chữ số thứ 4, 5 và 6."
        )
    return CccdNumberInfo(
        number=number,
        province_code=province_code,
        province=province,
        century_start=century_start,
        sex="Nam" if code % 2 == 0 else "Nữ",
        birth_year=birth_year,
    )


def validate_cccd_number(text: str, birth_date: date | None = None, *, today: date | None = None) -> str:
    """Return the 12-digit number cleaned of spaces and dots, or raise :class:`CccdError`.

    When ``birth_date`` is known, the century code (digit 4) and the year digits (5–6) must
    agree with it.
    """
    info = decode_cccd_number(text, today=today)
    if birth_date is not None and info.birth_year != birth_date.year:
        raise CccdError(
            f"Số căn cước {info.number} ứng với người sinh năm {info.birth_year}, "
            f"nhưng ngày sinh đã khai là {birth_date:%d/%m/%Y}. "
            "Xin ông/bà vui lòng kiểm tra lại số căn cước hoặc ngày sinh."
        )
    return info.number


def _clean_text(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).split())


def _parse_card_date(value: str, what: str, *, required: bool) -> date | None:
    value = value.strip()
    if not value:
        if required:
            raise CccdError(f"Mã QR trên thẻ thiếu {what}. Xin ông/bà vui lòng quét lại mã QR.")
        return None
    if not re.fullmatch(r"\d{8}", value):
        raise CccdError(
            f"Mã QR trên thẻ có {what} «{value}» không đúng dạng ngày (ddmmyyyy). "
            "Xin ông/bà vui lòng quét lại mã QR hoặc khai bằng tay."
        )
    day, month, year = int(value[:2]), int(value[2:4]), int(value[4:])
    try:
        return date(year, month, day)
    except ValueError:
        raise CccdError(
            f"Mã QR trên thẻ có {what} {value[:2]}/{value[2:4]}/{value[4:]} là ngày không có thật. "
            "Xin ông/bà vui lòng quét lại mã QR hoặc khai bằng tay."
        ) from None


def parse_cccd_qr(payload: str, *, today: date | None = None) -> CccdCard:
    """Read the QR payload ``id|old id|full name|ddmmyyyy|sex|address|issue ddmmyyyy``.

    Seven fields is the usual form (the old id may be empty); six fields means the reader
    left out the old-id field altogether. A byte-order mark, surrounding CR/LF and
    decomposed Unicode are tolerated. The number is checked with
    :func:`validate_cccd_number` against the birth date. Raises :class:`CccdError`.
    """
    if not isinstance(payload, str):
        raise TypeError(f"QR payload must be a str, got {type(payload).__name__}")
    text = unicodedata.normalize("NFC", payload.lstrip("\ufeff").strip("\r\n\t ").lstrip("\ufeff"))
    parts = text.split("|")
    if len(parts) == 6:
        parts.insert(1, "")
    if len(parts) != 7:
        raise CccdError(
            "Mã QR vừa quét không phải mã QR của thẻ căn cước "
            f"(cần 6 hoặc 7 trường thông tin, mã này có {len(parts)}). "
            "Xin ông/bà vui lòng quét mã QR ở mặt trước thẻ căn cước."
        )
    number_text, old_text, name_text, birth_text, sex_text, address_text, issued_text = parts

    birth_date = _parse_card_date(birth_text, "ngày sinh", required=True)
    assert birth_date is not None
    issued = _parse_card_date(issued_text, "ngày cấp", required=False)

    number_text = number_text.strip()
    if not _DIGITS_12.fullmatch(number_text):
        raise CccdError(
            f"Mã QR có số căn cước «{number_text}» không phải 12 chữ số. "
            "Xin ông/bà vui lòng quét lại mã QR trên thẻ căn cước."
        )
    number = validate_cccd_number(number_text, birth_date, today=today)

    old_number = old_text.strip()
    if old_number and not _OLD_NUMBER.fullmatch(old_number):
        raise CccdError(
            f"Mã QR có số chứng minh nhân dân cũ «{old_number}» không đúng (cần 9 hoặc 12 chữ số). "
            "Xin ông/bà vui lòng quét lại mã QR."
        )

    full_name = _clean_text(name_text)
    if not full_name or any(ch.isdigit() for ch in full_name):
        raise CccdError("Mã QR trên thẻ không có họ tên hợp lệ. Xin ông/bà vui lòng quét lại mã QR.")

    sex = _SEXES.get(_clean_text(sex_text).lower())
    if sex is None:
        raise CccdError(
            f"Mã QR có giới tính «{sex_text.strip()}» không đọc được (cần «Nam» hoặc «Nữ»). "
            "Xin ông/bà vui lòng quét lại mã QR."
        )

    address = _clean_text(address_text)
    if not address:
        raise CccdError("Mã QR trên thẻ thiếu nơi thường trú. Xin ông/bà vui lòng quét lại mã QR.")

    if issued is not None and issued < birth_date:
        raise CccdError("Mã QR có ngày cấp thẻ trước ngày sinh. Xin ông/bà vui lòng quét lại mã QR.")

    return CccdCard(
        number=number,
        old_number=old_number,
        full_name=full_name,
        birth_date=birth_date,
        sex=sex,
        address=address,
        issued=issued,
    )
