"""Facts about legal documents kept by people: ``knowledge_base/legal_documents.yaml``.

A document's own heading says when it takes effect, and sometimes what it replaces; the
older text rarely says it was replaced. The YAML file records such facts (replaced by,
from when, effective date, consolidated or not) per document number, and
:func:`apply_metadata` lays them over parsed documents before they are stored, then
shares replacement facts between the documents given (``link_replacements``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from knowledge_base.legal import LegalDocument, link_replacements

METADATA_FILE = Path(__file__).with_name("legal_documents.yaml")
_KEYS = {"effective", "replaced_by", "replaced_from", "expired_on", "replaces", "consolidated", "note"}


def load_metadata(path: str | Path = METADATA_FILE) -> dict[str, dict[str, Any]]:
    """``{number: {key: value}}``; an unknown key or a bad date raises ``ValueError`` naming it."""
    path = Path(path)
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: cần một bảng số hiệu → thông tin (a mapping of numbers)")
    out: dict[str, dict[str, Any]] = {}
    for number, facts in data.items():
        facts = dict(facts or {})
        unknown = set(facts) - _KEYS
        if unknown:
            raise ValueError(
                f"{path}: {number}: khóa không hỗ trợ {sorted(unknown)} (allowed: {sorted(_KEYS)})"
            )
        for key in ("effective", "replaced_from", "expired_on"):
            if key in facts and facts[key] is not None:
                facts[key] = _day(facts[key], f"{path}: {number}.{key}")
        if "replaces" in facts:
            facts["replaces"] = tuple(str(n) for n in facts["replaces"] or ())
        out[str(number)] = facts
    return out


def _day(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"{where}: ngày không hợp lệ {value!r} (use YYYY-MM-DD)") from exc


def apply_metadata(
    documents: Iterable[LegalDocument], metadata: Mapping[str, Mapping[str, Any]] | None = None
) -> list[LegalDocument]:
    """Documents with the recorded facts laid over what their texts say, replacements linked."""
    metadata = load_metadata() if metadata is None else metadata
    out = []
    for document in documents:
        facts = metadata.get(document.number) or {}
        changes: dict[str, Any] = {
            k: facts[k]
            for k in ("effective", "replaced_by", "replaced_from", "expired_on", "consolidated")
            if k in facts
        }
        if "replaces" in facts:
            changes["replaces"] = tuple(dict.fromkeys([*document.replaces, *facts["replaces"]]))
        if facts.get("note") and not document.status_note:
            changes["status_note"] = str(facts["note"])
        out.append(replace(document, **changes) if changes else document)
    return link_replacements(out)
