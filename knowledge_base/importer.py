"""Imports the national portal's catalogue into the knowledge base.

The whole file is checked before anything is written (a truncated gzip or an
empty file changes nothing); each record is parsed on its own, and one that
cannot be parsed is reported and skipped. All good records are written in one
transaction, so a crash leaves the previous knowledge base intact. Re-importing
updates by code and writes a revision only where something changed; procedures
that staff edited are kept unless ``overwrite_staff_edits``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from knowledge_base.dichvucong import RecordError, parse_record, read_records, summarize
from knowledge_base.everyday_names import everyday_names
from knowledge_base.store import ProcedureRevision, ProcedureRow
from knowledge_base.sync import merged_aliases
from motcua.db import session_scope


@dataclass
class ImportReport:
    path: str
    records: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_staff_edits: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    warnings: int = 0
    coverage: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        lines = [
            f"Tệp: {self.path}",
            f"Bản ghi đọc được: {self.records}; bỏ qua: {len(self.skipped)}",
            f"Thủ tục mới: {self.created}; cập nhật: {self.updated}; không đổi: {self.unchanged}; "
            f"giữ nguyên chỉnh sửa của cán bộ: {self.kept_staff_edits}",
            "Trường phân tích được: " + ", ".join(f"{k} {v}" for k, v in self.coverage.items()),
            f"Bản ghi có cảnh báo: {self.warnings}",
        ]
        lines += [f"  • dòng {line}: {reason}" for line, reason in self.skipped[:50]]
        if len(self.skipped) > 50:
            lines.append(f"  … và {len(self.skipped) - 50} bản ghi khác")
        return "\n".join(lines)


def import_dichvucong(
    database_url: str,
    path: str | Path,
    *,
    actor: str = "system:import",
    overwrite_staff_edits: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import every record of ``path``; raises CatalogueFileError when the file itself is unusable."""
    report = ImportReport(str(path))
    parsed = []
    seen: set[str] = set()
    for line, record in read_records(path):  # validates the whole file before the first record
        report.records += 1
        if progress:
            progress(1)
        if isinstance(record, RecordError):
            report.skipped.append((line, str(record)))
            continue
        try:
            result = parse_record(record)
        except RecordError as exc:
            report.skipped.append((line, str(exc)))
            continue
        if result.procedure.code in seen:
            report.skipped.append((line, f"mã thủ tục {result.procedure.code} lặp lại trong tệp"))
            continue
        seen.add(result.procedure.code)
        report.warnings += bool(result.warnings)
        parsed.append(result)
    report.coverage = dict(Counter(summarize(parsed)))
    names = everyday_names()
    for result in parsed:  # the everyday name comes before the catalogue's own aliases
        result.procedure.aliases = merged_aliases(names.get(result.procedure.code, []), result.procedure.aliases)
    with session_scope(database_url) as session:
        existing = {row.code: row for row in session.scalars(select(ProcedureRow))}
        for result in parsed:
            procedure = result.procedure
            data = procedure.to_dict()
            row = existing.get(procedure.code)
            if row is None:
                session.add(ProcedureRow(code=procedure.code, name=procedure.name, field=procedure.field,
                                         levels=", ".join(procedure.levels), source=procedure.source, data=data))
                session.add(ProcedureRevision(procedure_code=procedure.code, version=1, actor=actor,
                                              reason="nhập từ Cổng DVC", before=None, after=data))
                report.created += 1
                continue
            if row.staff_edited and not overwrite_staff_edits:
                report.kept_staff_edits += 1
                continue
            # Names already stored (the default files', earlier imports') keep their place, so the
            # default files' wording stays first and a re-import changes nothing; new ones follow.
            procedure.aliases = merged_aliases(list(row.data.get("aliases") or []), procedure.aliases)
            data = procedure.to_dict()
            if row.data == data:
                report.unchanged += 1
                continue
            session.add(ProcedureRevision(procedure_code=procedure.code, version=row.version + 1, actor=actor,
                                          reason="nhập lại từ Cổng DVC", before=row.data, after=data))
            row.data, row.name, row.field = data, procedure.name, procedure.field
            row.levels, row.source, row.version = ", ".join(procedure.levels), procedure.source, row.version + 1
            report.updated += 1
    return report
