"""The default knowledge base a fresh install loads.

Plain YAML files beside this module, written for people to read and edit:

- ``procedures/<slug>.yaml`` — one administrative procedure per file, in the shape
  :meth:`knowledge_base.schema.Procedure.from_dict` reads;
- ``synonyms.yaml`` — a list of ``{phrase, canonical}``: how citizens say it;
- ``faq.yaml`` — a list of ``{question, answer, procedures}``;
- ``center.yaml`` — the centre's name, address, phone and opening hours.

Every loader reads with ``yaml.safe_load``, normalises text to Unicode NFC and raises
:class:`ValueError` naming the file and what is wrong, so a typo made by staff is
reported clearly instead of silently dropping data (staff read those messages: their lines carry
``# staff-facing``). The centre's card a citizen reads takes its words from the catalogue's ``center.*``.
No framework is imported here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, time
from pathlib import Path
from typing import Any

import yaml

from knowledge_base.messages import render
from knowledge_base.schema import (
    FaqEntry,
    Fee,
    LegalReference,
    Procedure,
    ProcessingTime,
    RequiredDocument,
    SubmissionChannel,
    Synonym,
)

KNOWLEDGE_BASE_DIR = Path(__file__).resolve().parent
PROCEDURES_DIR = KNOWLEDGE_BASE_DIR / "procedures"
SYNONYMS_FILE = KNOWLEDGE_BASE_DIR / "synonyms.yaml"
FAQ_FILE = KNOWLEDGE_BASE_DIR / "faq.yaml"
CENTER_FILE = KNOWLEDGE_BASE_DIR / "center.yaml"

# Keys each YAML mapping may hold, taken from the schema so the two never drift apart.
# An unknown key is nearly always a typo, or a comma left unquoted inside ``{...}``
# (YAML then splits the text into a second key).
_PROCEDURE_KEYS = frozenset(f.name for f in fields(Procedure))
_CHANNEL_KEYS = frozenset(f.name for f in fields(SubmissionChannel))
_TIME_KEYS = frozenset(f.name for f in fields(ProcessingTime))
_FEE_KEYS = frozenset(f.name for f in fields(Fee))
_DOCUMENT_KEYS = frozenset(f.name for f in fields(RequiredDocument))
_LEGAL_KEYS = frozenset(f.name for f in fields(LegalReference))
_SYNONYM_KEYS = frozenset({"phrase", "canonical"})
_FAQ_KEYS = frozenset({"question", "answer", "procedures"})
_CENTER_KEYS = frozenset(
    {"name", "short_name", "address", "phone", "email", "website", "opening_hours", "note"}
)
_PERIOD_KEYS = frozenset({"days", "open", "close"})

WEEKDAYS: dict[str, int] = {
    "thu_hai": 0,
    "thu_ba": 1,
    "thu_tu": 2,
    "thu_nam": 3,
    "thu_sau": 4,
    "thu_bay": 5,
    "chu_nhat": 6,
}


def weekday_label(day: int) -> str:
    """«Thứ Hai» … «Chủ nhật» for 0 … 6 (the catalogue's ``center.weekday.*``)."""
    return render(f"center.weekday.{day}")


@dataclass(frozen=True)
class OpeningPeriod:
    """One stretch of opening time, the same on each of ``days`` (0 = thứ Hai … 6 = Chủ nhật)."""

    days: tuple[int, ...]
    opens: time
    closes: time

    def covers(self, moment: datetime) -> bool:
        return moment.weekday() in self.days and self.opens <= moment.time() < self.closes


@dataclass(frozen=True)
class CenterInfo:
    """The public administration service centre a deployment serves."""

    name: str
    address: str
    phone: str
    short_name: str = ""
    email: str = ""
    website: str = ""
    opening_hours: tuple[OpeningPeriod, ...] = ()
    note: str = ""

    def describe(self) -> str:
        """A short citizen-facing card: name, address, hours, phone and the note, one per line.

        The words around the center's data are the catalogue's ``center.*``.
        """
        lines = [self.name, render("center.address", address=self.address)]
        if self.opening_hours:
            lines.append(render("center.hours", hours=self.describe_hours()))
        lines.append(render("center.phone", phone=self.phone))
        if self.email:
            lines.append(render("center.email", email=self.email))
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def is_open(self, moment: datetime) -> bool:
        """Whether ``moment`` (local time) falls in the regular opening hours. Holidays are not known here."""
        return any(period.covers(moment) for period in self.opening_hours)

    def describe_hours(self) -> str:
        """Opening hours in plain Vietnamese, e.g. ``Thứ Hai đến Thứ Sáu: 07:30–11:30, 13:30–17:00; …``."""
        by_days: dict[tuple[int, ...], list[OpeningPeriod]] = {}
        for period in self.opening_hours:
            by_days.setdefault(period.days, []).append(period)
        parts = []
        for days, periods in sorted(by_days.items(), key=lambda item: item[0]):
            spans = ", ".join(
                f"{p.opens:%H:%M}–{p.closes:%H:%M}" for p in sorted(periods, key=lambda p: p.opens)
            )
            parts.append(f"{_describe_days(days)}: {spans}")
        return "; ".join(parts)


def load_default_procedures(directory: Path | str | None = None) -> list[Procedure]:
    """Every ``*.yaml`` procedure in ``directory`` (default: the bundled ones), sorted by code.

    Raises ValueError naming the file when one is malformed or two files share a code.
    """
    folder = Path(directory) if directory is not None else PROCEDURES_DIR
    if not folder.is_dir():
        raise ValueError(f"{folder}: không tìm thấy thư mục thủ tục (procedures directory not found)")  # staff-facing
    procedures: list[Procedure] = []
    seen: dict[str, Path] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        procedure = _procedure_from(path, _read_yaml(path))
        if procedure.code in seen:
            raise ValueError(
                f"{path}: mã thủ tục {procedure.code} trùng với tệp {seen[procedure.code].name} "  # staff-facing
                "(duplicate procedure code)"
            )
        seen[procedure.code] = path
        procedures.append(procedure)
    return sorted(procedures, key=lambda p: p.code)


def load_synonyms(path: Path | str | None = None) -> list[Synonym]:
    """The citizen phrases and what they stand for, from ``synonyms.yaml``."""
    file = Path(path) if path is not None else SYNONYMS_FILE
    items = _read_list(file, "synonyms")
    synonyms: list[Synonym] = []
    seen: set[str] = set()
    for number, item in enumerate(items, start=1):
        where = f"{file}: mục {number}"  # staff-facing
        _check_mapping(item, _SYNONYM_KEYS, where)
        phrase = _required_text(item, "phrase", where)
        canonical = _required_text(item, "canonical", where)
        key = phrase.casefold()
        if key in seen:
            raise ValueError(f"{where}: cụm từ '{phrase}' bị lặp (duplicate phrase)")  # staff-facing
        seen.add(key)
        synonyms.append(Synonym(phrase=phrase, canonical=canonical))
    return synonyms


def load_faq(path: Path | str | None = None) -> list[FaqEntry]:
    """The frequently asked questions, from ``faq.yaml``."""
    file = Path(path) if path is not None else FAQ_FILE
    items = _read_list(file, "FAQ")
    entries: list[FaqEntry] = []
    for number, item in enumerate(items, start=1):
        where = f"{file}: câu hỏi {number}"  # staff-facing
        _check_mapping(item, _FAQ_KEYS, where)
        codes = item.get("procedures") or []
        if not isinstance(codes, list):
            raise ValueError(f"{where}: 'procedures' phải là danh sách mã thủ tục")  # staff-facing
        entries.append(
            FaqEntry(
                question=_required_text(item, "question", where),
                answer=_required_text(item, "answer", where),
                procedures=tuple(_code_text(code, f"{where}, procedures") for code in codes),
            )
        )
    return entries


def load_center_info(path: Path | str | None = None) -> CenterInfo:
    """The centre's name, contact details and opening hours, from ``center.yaml``."""
    file = Path(path) if path is not None else CENTER_FILE
    data = _read_yaml(file)
    where = str(file)
    _check_mapping(data, _CENTER_KEYS, where)
    periods = data.get("opening_hours") or []
    if not isinstance(periods, list):
        raise ValueError(f"{where}: 'opening_hours' phải là danh sách khung giờ")  # staff-facing
    hours = tuple(
        _opening_period(item, f"{where}: opening_hours mục {n}") for n, item in enumerate(periods, 1)  # staff-facing
    )
    return CenterInfo(
        name=_required_text(data, "name", where),
        address=_required_text(data, "address", where),
        phone=_required_text(data, "phone", where),
        short_name=_optional_text(data, "short_name", where),
        email=_optional_text(data, "email", where),
        website=_optional_text(data, "website", where),
        opening_hours=hours,
        note=_optional_text(data, "note", where),
    )


def find_gaps(procedure: Procedure) -> list[str]:
    """What a citizen would miss in ``procedure``, in Vietnamese for the staff who complete it; empty
    when it is complete enough.

    Complete enough means: at least one way to submit with a processing time, a statement
    about the fee on every channel, at least one document and one legal reference.
    """
    gaps: list[str] = []
    if not procedure.channels:
        gaps.append("chưa có cách thức nộp hồ sơ (channels)")  # staff-facing
    for channel in procedure.channels:
        if channel.time is None:
            gaps.append(f"kênh {channel.kind.value} chưa có thời gian giải quyết")  # staff-facing
        fee = channel.fee
        if fee is None or not (fee.free or fee.amount is not None or fee.note.strip()):
            gaps.append(f"kênh {channel.kind.value} chưa nói rõ phí, lệ phí")  # staff-facing
    if not procedure.documents:
        gaps.append("chưa có thành phần hồ sơ (documents)")  # staff-facing
    if not procedure.legal_basis:
        gaps.append("chưa có căn cứ pháp lý (legal_basis)")  # staff-facing
    return gaps


# --- reading and checking -------------------------------------------------------------


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: tệp không phải UTF-8 (file is not UTF-8)") from exc  # staff-facing
    except OSError as exc:
        raise ValueError(f"{path}: không đọc được tệp ({exc.strerror or exc})") from exc  # staff-facing
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" ở dòng {mark.line + 1}" if mark is not None else ""  # staff-facing
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValueError(
            f"{path}: YAML không hợp lệ{line} (invalid YAML): {problem}. "  # staff-facing
            "Nếu nội dung có dấu hai chấm hoặc dấu phẩy, hãy đặt nó trong dấu nháy kép."
        ) from exc
    return _nfc(data)


def _read_list(path: Path, what: str) -> list[Any]:
    data = _read_yaml(path)
    if data is None:
        return []
    if not isinstance(data, list):
        raise ValueError(f"{path}: tệp {what} phải là một danh sách (top level must be a list)")  # staff-facing
    return data


def _nfc(value: Any) -> Any:
    """Normalise every string to NFC so text typed on any keyboard compares equal."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(item) for item in value]
    if isinstance(value, dict):
        return {_nfc(key): _nfc(item) for key, item in value.items()}
    return value


def _check_mapping(value: Any, allowed: Iterable[str], where: str) -> None:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: cần một đối tượng dạng 'khóa: giá trị' (expected a mapping)")  # staff-facing
    unknown = sorted(str(key) for key in value if key not in allowed)
    if unknown:
        raise ValueError(
            f"{where}: khóa lạ {unknown} (unknown keys; allowed: {sorted(allowed)}). "  # staff-facing
            "Nếu nội dung có dấu phẩy, hãy đặt nó trong dấu nháy kép."
        )


def _required_text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: thiếu '{key}' hoặc '{key}' không phải chữ (missing or not text)")  # staff-facing
    return value.strip()


def _optional_text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{where}: '{key}' phải là chữ, hãy đặt trong dấu nháy kép")  # staff-facing
    return value.strip()


def _code_text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f'{where}: mã thủ tục phải đặt trong dấu nháy, ví dụ "1.001193" '  # staff-facing
            f"(got {value!r}; unquoted codes are read as numbers and lose zeros)"
        )
    return value.strip()


def _procedure_from(path: Path, data: Any) -> Procedure:
    where = str(path)
    _check_mapping(data, _PROCEDURE_KEYS, where)
    _code_text(data.get("code"), f"{where}, code")
    for code in data.get("related") or []:
        _code_text(code, f"{where}, related")
    for key in ("aliases", "levels", "steps", "channels", "documents", "legal_basis", "related"):
        if data.get(key) is not None and not isinstance(data[key], list):
            raise ValueError(f"{where}: '{key}' phải là danh sách (must be a list)")  # staff-facing
    for n, channel in enumerate(data.get("channels") or [], start=1):
        at = f"{where}: channels mục {n}"  # staff-facing
        _check_mapping(channel, _CHANNEL_KEYS, at)
        if channel.get("time") is not None:
            _check_mapping(channel["time"], _TIME_KEYS, f"{at}, time")
        if channel.get("fee") is not None:
            _check_mapping(channel["fee"], _FEE_KEYS, f"{at}, fee")
    for n, document in enumerate(data.get("documents") or [], start=1):
        at = f"{where}: documents mục {n}"  # staff-facing
        _check_mapping(document, _DOCUMENT_KEYS, at)
        if document.get("original") not in (True, False, None):
            raise ValueError(f"{at}: 'original' phải là true, false hoặc null")  # staff-facing
    for n, reference in enumerate(data.get("legal_basis") or [], start=1):
        _check_mapping(reference, _LEGAL_KEYS, f"{where}: legal_basis mục {n}")  # staff-facing
    try:
        return Procedure.from_dict(data)
    except (ValueError, KeyError, TypeError) as exc:
        detail = f"thiếu khóa {exc}" if isinstance(exc, KeyError) else str(exc)  # staff-facing
        raise ValueError(f"{where}: {detail}") from exc


def _opening_period(item: Any, where: str) -> OpeningPeriod:
    _check_mapping(item, _PERIOD_KEYS, where)
    days = item.get("days")
    if not isinstance(days, list) or not days:
        raise ValueError(f"{where}: 'days' phải là danh sách ngày, ví dụ [thu_hai, thu_ba]")  # staff-facing
    unknown = [day for day in days if day not in WEEKDAYS]
    if unknown:
        raise ValueError(f"{where}: ngày không hợp lệ {unknown}; dùng {list(WEEKDAYS)}")  # staff-facing
    opens = _clock(item.get("open"), f"{where}, open")
    closes = _clock(item.get("close"), f"{where}, close")
    if closes <= opens:
        raise ValueError(f"{where}: giờ đóng cửa phải sau giờ mở cửa")  # staff-facing
    return OpeningPeriod(days=tuple(sorted({WEEKDAYS[day] for day in days})), opens=opens, closes=closes)


def _clock(value: Any, where: str) -> time:
    # YAML 1.1 reads an unquoted 07:30 as the base-60 number 450; accept it as minutes.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return time(value // 60, value % 60)
    if isinstance(value, str):
        try:
            return datetime.strptime(value.strip(), "%H:%M").time()
        except ValueError:
            pass
    raise ValueError(f'{where}: giờ phải có dạng "HH:MM", ví dụ "07:30" (got {value!r})')  # staff-facing


def _describe_days(days: tuple[int, ...]) -> str:
    if len(days) > 2 and list(days) == list(range(days[0], days[-1] + 1)):
        return render("center.days_range", first=weekday_label(days[0]), last=weekday_label(days[-1]))
    return ", ".join(weekday_label(day) for day in days)
