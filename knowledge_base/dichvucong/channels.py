"""``cach_thuc_thuc_hien``: how a dossier is submitted, with its processing time and fee."""

from __future__ import annotations

import re

from knowledge_base.dichvucong.tidy import closing_bracket, one_line, strip_outer_brackets, tidy_text
from knowledge_base.schema import ChannelKind, Fee, ProcessingTime, SubmissionChannel, TimeUnit

CHANNEL_HEADER = "Hình thức nộpThời gianPhí, lệ phíMô tả"

_KINDS = {
    "Trực tiếp": ChannelKind.IN_PERSON,
    "Trực tuyến": ChannelKind.ONLINE,
    "Dịch vụ bưu chính": ChannelKind.POST,
}
_UNITS = {
    "Ngày làm việc": TimeUnit.WORKING_DAY,
    "Ngày": TimeUnit.DAY,
    "Giờ": TimeUnit.HOUR,
    "Tháng": TimeUnit.MONTH,
}
_CURRENCY = r"VNĐ|Việt Nam Đồng|Đồng|USD"

# One channel row: kind, then the time cell, then the fee cell (cells run together).
# The time cell is "<N> <unit>", "Không có thông tin", a bare "<N>" before the fee,
# or missing from view because a bare N ran into the amount ("Trực tuyến1100 VNĐ").
CHANNEL_ROW = re.compile(
    r"(?P<kind>Trực tiếp|Trực tuyến|Dịch vụ bưu chính)"
    r"(?:(?P<value>\d+(?:[.,]\d+)?) ?(?P<unit>Ngày làm việc|Ngày|Giờ|Tháng)"
    r"|(?P<no_time>Không có thông tin)"
    rf"|(?P<time_text>Không[^\d()]{{0,60}}?)(?=Miễn phí|Không có thông tin|\d[\d.,]* ?(?:{_CURRENCY}))"
    r"|(?P<bare>\d+(?:[.,]\d+)?)(?=Miễn phí|Không có thông tin)"
    rf"|(?=\d[\d.,]* ?(?:{_CURRENCY})))"
    rf"(?P<fee>Miễn phí|Không có thông tin|(?P<amount>\d[\d.,]*) ?(?P<currency>{_CURRENCY}))?"
)
# A money figure inside fee details: "20.000 đồng", "145 USD/thẻ", "8.000.000/lần".
_FIGURE = re.compile(
    r"(?<![\d/.,])(?P<number>\d{1,3}(?:[.,]\d{3})+|\d+)\s*"
    r"(?P<unit>đồng|Đồng|[đĐ](?![^\W\d_])|VNĐ|vnđ|VND|USD|/\s*[^\W\d_])"
)
_GROUPED = re.compile(r"\d{1,3}(?:[.,]\d{3})+")
_EXEMPT = re.compile(r"miễn", re.IGNORECASE)
_TRIVIAL_NOTES = {"không", "không có", "không quy định", "chưa quy định", "không có.", "không."}


def parse_channels(text: str) -> list[SubmissionChannel]:
    """Submission channels from ``cach_thuc_thuc_hien``; see :func:`parse_channels_with_warnings`."""
    return parse_channels_with_warnings(text)[0]


def parse_channels_with_warnings(text: str) -> tuple[list[SubmissionChannel], list[str]]:
    """Submission channels (time, fee, description) and what had to be guessed.

    ``text`` is the portal's flattened table: the header
    ``Hình thức nộpThời gianPhí, lệ phíMô tả`` then per channel
    ``<Trực tiếp|Trực tuyến|Dịch vụ bưu chính><N> <unit><fee>(details)<description>``.
    An unknown fee ("Không có thông tin") gives ``fee=None``; an unknown time gives
    ``time=None``. Exact duplicate rows are kept once.
    """
    text = tidy_text(text)
    if text.startswith(CHANNEL_HEADER):
        text = text[len(CHANNEL_HEADER) :]
    rows = list(CHANNEL_ROW.finditer(text))
    warnings: list[str] = []
    channels: list[SubmissionChannel] = []
    if not rows:
        if text:
            warnings.append("không đọc được hình thức nộp nào trong mục Cách thức thực hiện")
        return channels, warnings
    known_times = [row["value"] or row["bare"] for row in rows if row["value"] or row["bare"]]
    for i, row in enumerate(rows):
        end = rows[i + 1].start() if i + 1 < len(rows) else len(text)
        rest = text[row.end() : end]
        details, description = _split_details(rest)
        kind = _KINDS[row["kind"]]
        time = _time_of(row)
        fee: Fee | None = None
        if row["fee"] == "Miễn phí":
            fee, note = _free_fee(details)
            if note:
                warnings.append(f"{kind.label}: {note}")
        elif row["amount"]:
            digits = row["amount"]
            if time is None and not row["no_time"] and not row["time_text"]:
                value, digits, note = _split_time_from_amount(digits, details, known_times)
                time = None if value is None else ProcessingTime(value=value, unit=TimeUnit.UNSPECIFIED)
                warnings.append(f"{kind.label}: {note}")
            fee, note = _paid_fee(digits, row["currency"], details)
            if note:
                warnings.append(f"{kind.label}: {note}")
        elif details and row["fee"] is None:
            description = f"({details}) {description}".strip()
        if row["time_text"]:  # "Không quy định", "Không phải trả kết quả cho người nộp thuế"
            description = f"Thời hạn: {row['time_text']}. {description}"
        channel = SubmissionChannel(kind=kind, time=time, fee=fee, description=one_line(description))
        if channel not in channels:
            channels.append(channel)
    return channels, warnings


def _time_of(row: re.Match[str]) -> ProcessingTime | None:
    if row["value"]:
        return ProcessingTime(value=_number(row["value"]), unit=_UNITS[row["unit"]])
    if row["bare"]:
        return ProcessingTime(value=_number(row["bare"]), unit=TimeUnit.UNSPECIFIED)
    return None


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _split_details(rest: str) -> tuple[str, str]:
    """``(fee details, description)`` from what follows the fee cell."""
    rest = rest.strip()
    if not rest.startswith("("):
        return "", rest
    close = closing_bracket(rest, 0)
    if close < 0:  # unbalanced: the details run to the end of the row
        return one_line(strip_outer_brackets(rest[1:])), ""
    return one_line(strip_outer_brackets(rest[1:close])), rest[close + 1 :].strip()


def _figures(details: str) -> list[tuple[int, str]]:
    """Money figures named in fee details, as ``(amount, currency)``."""
    found = []
    for match in _FIGURE.finditer(details):
        amount = int(re.sub(r"[.,]", "", match["number"]))
        currency = "USD" if match["unit"] == "USD" else "VND"
        if amount > 0:
            found.append((amount, currency))
    return found


def _note_of(details: str) -> str:
    return "" if details.strip().lower().rstrip(".") in _TRIVIAL_NOTES else details


def _free_fee(details: str) -> tuple[Fee, str]:
    """A "Miễn phí" cell, unless its details name a fee and no exemption (the label is then wrong)."""
    figures = _figures(details)
    if figures and not _EXEMPT.search(details):
        amount, currency = figures[0]
        warning = f"Cổng ghi 'Miễn phí' nhưng ghi chú nêu mức thu; lấy {_money(amount)} {currency}"
        return Fee(amount=amount, currency=currency, note=details), warning
    return Fee(free=True, note=_note_of(details)), ""


def _paid_fee(digits: str, currency_label: str, details: str) -> tuple[Fee, str]:
    """An amount cell: "2,000,000 Việt Nam Đồng", "50 VNĐ" (thousands), "145 USD"."""
    currency = "USD" if currency_label == "USD" else "VND"
    plain = re.sub(r"[.,]", "", digits) if _GROUPED.fullmatch(digits) or digits.isdigit() else ""
    if not plain:
        return Fee(note=_note_of(details)), f"không hiểu số tiền '{digits}'"
    amount = int(plain)
    figures = _figures(details)
    note = ""
    if currency == "VND" and (amount, "USD") in figures and (amount, "VND") not in figures:
        currency = "USD"
        note = f"số tiền {amount} ghi là VNĐ nhưng ghi chú nêu {amount} USD; lấy USD"
    if amount <= 1:  # a placeholder, not a fee
        if _EXEMPT.search(details):
            return Fee(
                free=True, note=_note_of(details)
            ), f"số tiền {amount} kèm ghi chú miễn lệ phí; coi là miễn phí"
        return Fee(note=_note_of(details)), f"số tiền {amount} {currency_label} không hợp lý; bỏ"
    if currency == "VND" and amount < 1000:  # no fee is under 1.000 đồng: the cell is in thousands
        note = f"số tiền {amount} VNĐ không hợp lý, hiểu là nghìn đồng ({_money(amount * 1000)} đồng)"
        amount *= 1000
    return Fee(amount=amount, currency=currency, note=_note_of(details)), note


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _split_time_from_amount(
    digits: str, details: str, known_times: list[str]
) -> tuple[float | None, str, str]:
    """Split "1100" (a bare time run into the amount) into time 1 and amount "100".

    Candidates keep 1–3 leading digits as the time and need a plausible amount
    (no leading zero, well-formed thousands groups). The figure named in the fee
    details decides first, then a time another channel of the record uses, then
    the shortest time.
    """
    candidates: list[tuple[int, str]] = []
    for k in range(1, min(3, len(digits) - 1) + 1):
        time_part, amount_part = digits[:k], digits[k:]
        if not time_part.isdigit() or int(time_part) == 0 or amount_part[0] in "0.,":
            continue
        if not (amount_part.isdigit() or _GROUPED.fullmatch(amount_part)):
            continue
        candidates.append((int(time_part), amount_part))
    if not candidates:
        return None, digits, f"số tiền '{digits}' không có thời gian đi kèm"
    figures = {amount for amount, _ in _figures(details)}

    def score(candidate: tuple[int, str]) -> tuple[int, int, int]:
        time_value, amount_part = candidate
        amount = int(re.sub(r"[.,]", "", amount_part))
        named = amount in figures or amount * 1000 in figures
        shared = str(time_value) in known_times
        return (0 if named else 1, 0 if shared else 1, len(str(time_value)))

    time_value, amount_part = min(candidates, key=score)
    note = f"thời gian không có đơn vị dính liền số tiền '{digits}'; tách thành {time_value} và {amount_part}"
    return float(time_value), amount_part, note
