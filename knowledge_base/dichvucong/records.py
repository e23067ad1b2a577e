"""One portal record → one :class:`~knowledge_base.schema.Procedure`, and the import's coverage.

The portal's field names (``ma_thu_tuc``, ``cach_thuc_thuc_hien``…) are mapped to ours
here; whether the result is a procedure is the schema's to say.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from knowledge_base.dichvucong.channels import CHANNEL_ROW, parse_channels_with_warnings
from knowledge_base.dichvucong.documents import DOCUMENT_HEADER, parse_documents_with_warnings
from knowledge_base.dichvucong.legal_basis import LEGAL_HEADER, parse_legal_basis
from knowledge_base.dichvucong.tidy import NO_INFO, one_line, tidy_text
from knowledge_base.schema import InvalidProcedure, Procedure, parse_procedure

SOURCE = "dichvucong"


class RecordError(ValueError):
    """One catalogue record cannot be used (not an object, no code or name, bad JSON line)."""


@dataclass
class ParsedRecord:
    """A procedure built from one portal record, with what went wrong on the way.

    ``parsed`` names what was recovered from the source: Procedure field names
    (``"steps"``, ``"documents"``, ``"legal_basis"``…) plus ``"time"`` and ``"fee"``
    when at least one channel carries a processing time or a known fee.
    """

    procedure: Procedure
    warnings: list[str] = field(default_factory=list)
    parsed: set[str] = field(default_factory=set)


_RESULT_JUNK = re.compile(r"Từ khóa|Chọn cơ quan thực hiện|Hệ thống chỉ hiển thị")
_RESULT_CODE = re.compile(r"Mã:\s*KQ\.[A-Z]\d+(?:\.\d+)*")
_PROCEDURE_CODE = re.compile(r"(?<![\d.])\d{1,2}\.\d{6}(?![\d])")
_STEP_SPLIT = re.compile(r"(?<![-+])\s+(?=(?:[-+]\s*)?Bước\s*\d+\s*[:.)])")
_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")

# Sections of ``raw_text`` (the whole page), in page order.
_RAW_LABELS = {
    "trinh_tu_thuc_hien": "Trình Tự Thực Hiện",
    "cach_thuc_thuc_hien": "Cách Thức Thực Hiện",
    "thanh_phan_ho_so": "Thành phần hồ sơ",
    "can_cu_phap_ly": "Căn cứ pháp lý",
    "co_quan_thuc_hien": "Cơ quan thực hiện",
}


def parse_record(raw: dict[str, Any]) -> ParsedRecord:
    """Build a :class:`Procedure` from one portal record.

    Raises :class:`RecordError` (a ``ValueError``) when ``raw`` is not a mapping or what
    it maps to is not a procedure (no ``ma_thu_tuc`` / ``ten_thu_tuc``). Anything else
    that cannot be read becomes a warning, never an exception.
    """
    if not isinstance(raw, dict):
        raise RecordError(f"bản ghi phải là một đối tượng JSON, nhận được {type(raw).__name__}")
    warnings: list[str] = []
    text = _fields_of(raw, warnings)
    _repair_from_raw_text(text, raw.get("raw_text"), warnings)

    code = tidy_text(raw.get("ma_thu_tuc"))
    channels, channel_warnings = parse_channels_with_warnings(text["cach_thuc_thuc_hien"])
    documents, document_warnings = parse_documents_with_warnings(text["thanh_phan_ho_so"])
    legal_basis = parse_legal_basis(text["can_cu_phap_ly"])
    warnings += channel_warnings + document_warnings
    if text["can_cu_phap_ly"] and not legal_basis:
        warnings.append("không đọc được số hiệu văn bản nào trong mục Căn cứ pháp lý")
    if not channels:
        warnings.append("thiếu hình thức nộp, thời hạn và lệ phí")

    fields = {  # the portal's sections under our field names
        "code": code,
        "name": one_line(tidy_text(raw.get("ten_thu_tuc"))),
        "levels": [level for level in (one_line(x) for x in text["cap_thuc_hien"].split(",")) if level],
        "field": one_line(text["linh_vuc"]),
        "applicants": one_line(text["doi_tuong_thuc_hien"]),
        "competent_agency": one_line(text["co_quan_co_tham_quyen"] or text["co_quan_thuc_hien"]),
        "receiving_agency": one_line(text["dia_chi_tiep_nhan"] or text["co_quan_thuc_hien"]),
        "steps": _steps_of(text["trinh_tu_thuc_hien"]),
        "channels": channels,
        "documents": documents,
        "conditions": text["yeu_cau_dieu_kien"],
        "result": _result_of(text["ket_qua_xu_ly"]),
        "legal_basis": legal_basis,
        "related": sorted(set(_PROCEDURE_CODE.findall(text["thu_tuc_lien_quan"])) - {code}),
        "source": SOURCE,
        "updated": _updated_of(raw),
    }
    try:
        procedure = parse_procedure(fields)
    except InvalidProcedure as exc:
        raise RecordError(_refusal(exc, code)) from exc
    parsed = {name for name, value in fields.items() if value and name not in ("code", "name", "source")}
    if any(channel.time is not None for channel in channels):
        parsed.add("time")
    if any(
        channel.fee is not None and (channel.fee.free or channel.fee.amount is not None)
        for channel in channels
    ):
        parsed.add("fee")
    return ParsedRecord(procedure=procedure, warnings=warnings, parsed=parsed)


def _refusal(error: InvalidProcedure, code: str) -> str:
    """Why a record is not a procedure, naming the portal's own field for a missing code or name."""
    first = error.problems[0]
    if first.field == "code":
        return "bản ghi thiếu mã thủ tục (ma_thu_tuc)"
    if first.field == "name":
        return f"thủ tục {code} thiếu tên thủ tục (ten_thu_tuc)"
    return f"thủ tục {code}: {first.message}"


_TEXT_KEYS = (
    "cap_thuc_hien",
    "linh_vuc",
    "doi_tuong_thuc_hien",
    "co_quan_co_tham_quyen",
    "dia_chi_tiep_nhan",
    "co_quan_thuc_hien",
    "thu_tuc_lien_quan",
    "trinh_tu_thuc_hien",
    "cach_thuc_thuc_hien",
    "thanh_phan_ho_so",
    "can_cu_phap_ly",
    "yeu_cau_dieu_kien",
    "ket_qua_xu_ly",
)


def _fields_of(raw: dict[str, Any], warnings: list[str]) -> dict[str, str]:
    text = {}
    for key in _TEXT_KEYS:
        value = raw.get(key)
        if isinstance(value, (dict, list)):
            warnings.append(f"trường {key} không phải văn bản; bỏ qua")
            value = None
        text[key] = tidy_text(value)
    return text


def _squash(text: str) -> str:
    return "".join(text.split())


def _repair_from_raw_text(text: dict[str, str], raw_text: Any, warnings: list[str]) -> None:
    """Re-cut sections the portal scrape split at the wrong place.

    The scrape cut the page at the first occurrence of each section label, so a
    label quoted inside a section ("…theo quy định tại mục 5.3 (Thành phần hồ
    sơ)…", "(Căn cứ pháp lý: Thông tư 269/2016…)") truncated one field and filled
    the next with the wrong text. Cut again from ``raw_text`` at the labels that
    actually start each section.
    """
    if not isinstance(raw_text, str) or not raw_text:
        return
    sections = _sections_of(tidy_text(raw_text))
    for key, section in sections.items():
        if section is None or _squash(section) == _squash(text[key]):
            continue
        text[key] = section
        warnings.append(f"trường {key} bị cắt lệch khi thu thập; đã lấy lại từ raw_text")


def _sections_of(page: str) -> dict[str, str | None]:
    labels = _RAW_LABELS
    steps_at = page.find(labels["trinh_tu_thuc_hien"])
    how_at = page.find(labels["cach_thuc_thuc_hien"], max(steps_at, 0))
    if steps_at < 0 or how_at < 0:
        return {}
    after_how = how_at + len(labels["cach_thuc_thuc_hien"])
    # The documents label is the first one after the last channel row: a channel's
    # description may quote "Thành phần hồ sơ:" and the documents may repeat it.
    header_at = page.find(DOCUMENT_HEADER, after_how)
    last_row_end = after_how
    for row in CHANNEL_ROW.finditer(page, after_how, header_at if header_at >= 0 else len(page)):
        last_row_end = row.end()
    docs_at = page.find(labels["thanh_phan_ho_so"], last_row_end)
    if docs_at < 0:
        return {}
    after_docs = docs_at + len(labels["thanh_phan_ho_so"])
    legal_at = -1
    for marker in (labels["can_cu_phap_ly"] + LEGAL_HEADER, labels["can_cu_phap_ly"] + NO_INFO):
        found = page.find(marker, after_docs)
        if found >= 0 and (legal_at < 0 or found < legal_at):
            legal_at = found
    if legal_at < 0:
        return {}
    after_legal = legal_at + len(labels["can_cu_phap_ly"])
    agency_at = page.find(labels["co_quan_thuc_hien"], after_legal)
    return {
        "trinh_tu_thuc_hien": tidy_text(page[steps_at + len(labels["trinh_tu_thuc_hien"]) : how_at]),
        "cach_thuc_thuc_hien": tidy_text(page[after_how:docs_at]),
        "thanh_phan_ho_so": tidy_text(page[after_docs:legal_at]),
        "can_cu_phap_ly": tidy_text(page[after_legal:agency_at]) if agency_at >= 0 else None,
    }


def _steps_of(text: str) -> list[str]:
    steps: list[str] = []
    for line in text.split("\n"):
        steps.extend(part.strip() for part in _STEP_SPLIT.split(line))
    return [step for step in steps if step and step.strip("-+*. ")]


def _result_of(text: str) -> str:
    """The result documents, without the portal's widgets ("Mã: KQ…", "Từ khóa", "Chọn cơ quan…")."""
    junk = _RESULT_JUNK.search(text)
    if junk:
        text = text[: junk.start()]
    names = [one_line(part).strip(" ;,") for part in _RESULT_CODE.split(text)]
    return "; ".join(name for name in names if name)


def _updated_of(raw: dict[str, Any]) -> str:
    for key in ("updated", "ngay_cap_nhat", "ngay_hieu_luc"):
        value = tidy_text(raw.get(key))
        if not value:
            continue
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value[:10]):
            return value[:10]
        date = _DATE.search(value)
        if date:
            day, month, year = (int(x) for x in date.groups())
            return f"{year:04d}-{month:02d}-{day:02d}"
    return ""


def summarize(parsed_records: Iterable[ParsedRecord]) -> dict[str, int]:
    """Counts for an import report: ``records``, and how many got ``time``, ``fee``
    (free or an amount), ``documents``, ``legal_basis``, ``steps``, and ``with_warnings``."""
    counts = {
        "records": 0,
        "time": 0,
        "fee": 0,
        "documents": 0,
        "legal_basis": 0,
        "steps": 0,
        "with_warnings": 0,
    }
    for record in parsed_records:
        counts["records"] += 1
        for key in ("time", "fee", "documents", "legal_basis", "steps"):
            if key in record.parsed:
                counts[key] += 1
        if record.warnings:
            counts["with_warnings"] += 1
    return counts
