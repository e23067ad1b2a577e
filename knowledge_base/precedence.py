"""Whose words a citizen is told, field by field.

Three sources may describe one procedure: a staff edit, the centre's default files
(``knowledge_base/procedures/``) and the national catalogue (``motcua kb import-dichvucong``).
A staff edit wins over the centre's files, which win over the catalogue; the catalogue only
fills what the centre's text leaves empty. So re-importing the catalogue never changes what a
citizen is told unless the centre's own text is empty there, and the catalogue's full record
stays available beside it (the «Chi tiết theo Cổng Dịch vụ công» view).

A staff edit is the whole procedure as staff saved it: it is kept as it is. This module
composes the centre's text with the catalogue's; :func:`composed` is also what a procedure
would read without staff edits, which tells whether a revert brought it back there.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from knowledge_base.schema import Procedure

CATALOGUE_SOURCE = "dichvucong"

_MERGED = ("aliases",)  # the union of both, the centre's first
_OWN = ("code", "name", "source", "updated")  # always the centre's when there is a centre's text


def merged_aliases(*alias_lists: list[str]) -> list[str]:
    """The union of alias lists, first spelling kept, order kept, case-insensitive."""
    seen: set[str] = set()
    merged: list[str] = []
    for aliases in alias_lists:
        for alias in aliases:
            key = " ".join(alias.casefold().split())
            if key and key not in seen:
                seen.add(key)
                merged.append(alias)
    return merged


def is_empty(value: Any) -> bool:
    """Nothing said: an empty or blank text, an empty list, ``None``."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | dict):
        return not value
    return False


def compose(center: Procedure | None, catalogue: Procedure | None) -> Procedure:
    """The centre's text, field by field, with the catalogue filling only what it leaves empty.

    Either may be ``None`` (a procedure the catalogue alone knows, or one it does not know).
    """
    if center is None:
        if catalogue is None:
            raise ValueError("compose needs the centre's text or the catalogue's, got neither")
        return dataclasses.replace(catalogue)
    if catalogue is None:
        return dataclasses.replace(center)
    if center.code != catalogue.code:
        raise ValueError(f"cannot compose procedure {center.code} with catalogue record {catalogue.code}")
    values: dict[str, Any] = {}
    for spec in dataclasses.fields(Procedure):
        own, theirs = getattr(center, spec.name), getattr(catalogue, spec.name)
        if spec.name in _MERGED:
            values[spec.name] = merged_aliases(own, theirs)
        elif spec.name in _OWN or not is_empty(own):
            values[spec.name] = own
        else:
            values[spec.name] = theirs
    return Procedure(**values)


def from_column(data: dict[str, Any] | None) -> Procedure | None:
    """A stored layer (``center_data`` / ``catalogue_data``) back as a procedure, ``None`` when absent."""
    return Procedure.from_dict(data) if data else None
