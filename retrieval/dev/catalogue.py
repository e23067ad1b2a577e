"""Catalogue records (dichvucong_procedures.jsonl.gz) → ``Procedure``, quickly.

``read_procedures(path)`` uses ``knowledge_base.dichvucong`` (the project's importer) when
it is importable, else :func:`procedure_from_record`, a small fallback that fills only the
fields retrieval reads (name, field, levels, applicants, documents, result, conditions).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from knowledge_base.schema import LegalReference, Procedure, RequiredDocument

_EMPTY = "Không có thông tin"
_COUNT = re.compile(r"(\d+)\s*bản\s*(chính|sao)", re.IGNORECASE)
_DOC_HEADER = re.compile(r"Tên giấy tờMẫu đơn, tờ khaiSố lượng")
_RESULT_CODE = re.compile(r"Mã:\s*KQ\.[A-Z]\d+\.\d+")
_LAW_NUMBER = re.compile(r"\d+/\d{4}/[A-ZĐ0-9-]+")


def _clean(value: Any) -> str:
    text = str(value or "").strip()
    return "" if text == _EMPTY else text


def _documents(raw: str) -> list[RequiredDocument]:
    raw = _DOC_HEADER.sub("\n", _clean(raw))
    docs = []
    for part in _COUNT.split(raw)[::3]:
        for line in re.split(r"\n|(?:^|\s)- |\* ", part):
            name = re.sub(r"\S+\.(docx?|pdf)\b", "", line).strip(" ;:.-*")
            if len(name) > 3:
                docs.append(RequiredDocument(name=name[:400]))
    return docs


def _result(raw: str) -> str:
    text = _clean(raw).split("Từ khóa")[0]
    return "; ".join(p.strip() for p in _RESULT_CODE.split(text) if p.strip())


def procedure_from_record(raw: dict[str, Any]) -> Procedure:
    """Fallback parser for one raw catalogue record."""
    code = _clean(raw.get("ma_thu_tuc"))
    name = " ".join(_clean(raw.get("ten_thu_tuc")).split())
    if not code or not name:
        raise ValueError(f"bản ghi thiếu mã hoặc tên thủ tục: {str(raw)[:80]}")
    legal = [
        LegalReference(number=n)
        for n in dict.fromkeys(_LAW_NUMBER.findall(_clean(raw.get("can_cu_phap_ly"))))
    ]
    return Procedure(
        code=code,
        name=name,
        levels=[x.strip() for x in _clean(raw.get("cap_thuc_hien")).split(",") if x.strip()],
        field=_clean(raw.get("linh_vuc")),
        applicants=_clean(raw.get("doi_tuong_thuc_hien")),
        competent_agency=_clean(raw.get("co_quan_co_tham_quyen")),
        receiving_agency=_clean(raw.get("dia_chi_tiep_nhan")),
        steps=[s.strip() for s in _clean(raw.get("trinh_tu_thuc_hien")).split("\n") if s.strip()],
        documents=_documents(raw.get("thanh_phan_ho_so", "")),
        conditions=_clean(raw.get("yeu_cau_dieu_kien")),
        result=_result(raw.get("ket_qua_xu_ly", "")),
        legal_basis=legal,
        source="dichvucong",
    )


def read_procedures(path: Path | str) -> Iterator[Procedure]:
    """One ``Procedure`` per record of the (optionally gzipped) JSONL catalogue.

    Uses ``knowledge_base.dichvucong`` (``read_records`` + ``parse_record``) when it is
    importable; bad records are skipped there, as the importer does. Otherwise the
    fallback parser above, which raises on a bad line.
    """
    try:
        from knowledge_base.dichvucong import parse_record, read_records
    except ImportError:
        yield from _read_with_fallback(Path(path))
        return
    for _, record in read_records(path):
        if isinstance(record, ValueError):
            continue
        try:
            yield parse_record(record).procedure
        except ValueError:
            continue


def _read_with_fallback(path: Path) -> Iterator[Procedure]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: JSON không hợp lệ: {error}") from error
            yield procedure_from_record(raw)
