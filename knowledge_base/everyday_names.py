"""Everyday names for the commune-level procedures of the national catalogue.

The catalogue names a procedure the way the law does («Thủ tục đăng ký khai sinh
có yếu tố nước ngoài tại khu vực biên giới»); citizens say «làm giấy khai sinh cho
con lai», «giấy ks», «con mới sinh». The YAML files in ``everyday_names/`` (one per
field, written for staff to read) map a catalogue code to an everyday ``name`` and a
few ``aliases``; the catalogue import stores them, name first, in the procedure's
``aliases`` so the search finds them and staff review or edit them on the curation page.

Precedence, strongest first: a staff edit (the import leaves an edited procedure
alone), the centre's default files (``procedures/*.yaml``, whose aliases come first),
this data, the catalogue's own name. Aliases are written with diacritics: the
index folds them itself.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

EVERYDAY_NAMES_DIR = Path(__file__).resolve().parent / "everyday_names"
_CODE = re.compile(r"^\d\.\d{6}$")
_ENTRY_KEYS = frozenset({"name", "aliases"})
# The C loader reads the ~600 entries ten times faster than the pure-Python one (80 ms, not
# 800 ms), which a catalogue import pays once; both are safe loaders.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class EverydayName:
    """How citizens call one catalogue procedure: a plain ``name`` and a few ``aliases``."""

    code: str
    name: str
    aliases: tuple[str, ...]
    source_file: str

    @property
    def all_names(self) -> list[str]:
        """The name first, then the aliases — the order they are stored in the procedure."""
        return [self.name, *self.aliases]


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: cần một đoạn chữ không rỗng")
    return " ".join(unicodedata.normalize("NFC", value).split())


def _entry(code: Any, data: Any, where: str) -> EverydayName:
    code = str(code).strip()
    if not _CODE.match(code):
        raise ValueError(f"{where}: mã thủ tục «{code}» không đúng dạng 1.001193")
    if not isinstance(data, dict):
        raise ValueError(f"{where} {code}: cần name và aliases")
    unknown = set(data) - _ENTRY_KEYS
    if unknown:
        raise ValueError(f"{where} {code}: khóa lạ {sorted(unknown)} (chỉ có name, aliases)")
    aliases = data.get("aliases") or []
    if not isinstance(aliases, list):
        raise ValueError(f"{where} {code}: aliases phải là một danh sách")
    return EverydayName(
        code=code,
        name=_text(data.get("name"), f"{where} {code} name"),
        aliases=tuple(_text(a, f"{where} {code} aliases") for a in aliases),
        source_file=where,
    )


def load_everyday_name_entries(directory: Path = EVERYDAY_NAMES_DIR) -> dict[str, EverydayName]:
    """Every entry of every ``*.yaml`` in ``directory``; ValueError naming the file on a mistake."""
    entries: dict[str, EverydayName] = {}
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path.name}: cần một bảng mã thủ tục → tên gọi")
        for code, value in data.items():
            entry = _entry(code, value, path.name)
            if entry.code in entries:
                raise ValueError(f"{path.name}: mã {entry.code} đã có trong {entries[entry.code].source_file}")
            entries[entry.code] = entry
    return entries


@lru_cache(maxsize=1)
def everyday_names() -> dict[str, list[str]]:
    """Code → [everyday name, aliases…]; read once per process so an import stays fast."""
    return {code: entry.all_names for code, entry in load_everyday_name_entries().items()}
