"""Imports the national portal's catalogue into the knowledge base.

The whole file is checked before anything is written (a truncated gzip or an
empty file changes nothing); each record is parsed on its own, and one that
cannot be parsed is reported and skipped. All good records are written in one
transaction, so a crash leaves the previous knowledge base intact. Re-importing
updates by code and writes a revision only where something changed; procedures
that staff edited are kept unless ``overwrite_staff_edits``.

The catalogue never overrides the centre's own words (:mod:`knowledge_base.precedence`): a
procedure the default files describe keeps their text and gains only what they leave empty;
the portal's record itself is kept in ``catalogue_data`` for the «Chi tiết theo Cổng Dịch vụ
công» view.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from knowledge_base.dichvucong import RecordError, parse_record, read_records, summarize
from knowledge_base.everyday_names import everyday_names
from knowledge_base.precedence import CATALOGUE_SOURCE, compose, from_column, merged_aliases
from knowledge_base.schema import Procedure
from knowledge_base.store import ProcedureRevision, ProcedureRow
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
            record = result.procedure.to_dict()
            row = existing.get(result.procedure.code)
            if row is None:
                session.add(ProcedureRow(code=result.procedure.code, name=result.procedure.name,
                                         field=result.procedure.field, levels=", ".join(result.procedure.levels),
                                         source=result.procedure.source, data=record, catalogue_data=record))
                session.add(ProcedureRevision(procedure_code=result.procedure.code, version=1, actor=actor,
                                              reason="nhập từ Cổng DVC", before=None, after=record))
                report.created += 1
                continue
            row.catalogue_data = record  # the portal's record stays available, whoever's words win
            if row.staff_edited and not overwrite_staff_edits:
                report.kept_staff_edits += 1
                continue
            procedure = told(row, result.procedure)
            data = procedure.to_dict()
            if row.data == data:
                report.unchanged += 1
                continue
            session.add(ProcedureRevision(procedure_code=procedure.code, version=row.version + 1, actor=actor,
                                          reason="nhập lại từ Cổng DVC", before=row.data, after=data))
            row.data, row.name, row.field = data, procedure.name, procedure.field
            row.levels, row.source, row.version = ", ".join(procedure.levels), procedure.source, row.version + 1
            row.staff_edited = False
            report.updated += 1
    return report


def told(row: ProcedureRow, catalogue: Procedure) -> Procedure:
    """What citizens are told of ``row`` once the catalogue says ``catalogue``.

    The centre's text (its default file) wins field by field and the catalogue fills its gaps
    (:func:`knowledge_base.precedence.compose`). A procedure the catalogue alone describes takes
    the new record; the names already stored keep their place, so a re-import changes nothing.
    """
    center = from_column(row.center_data)
    if center is None and row.source not in (CATALOGUE_SOURCE, ""):
        center = row.to_procedure()  # loaded from the default files before they were kept apart
    if center is not None:
        return compose(center, catalogue)
    return dataclasses.replace(catalogue, aliases=merged_aliases(list(row.data.get("aliases") or []),
                                                                 catalogue.aliases))
