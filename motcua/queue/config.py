"""The queue's configuration: services, counters, priority categories, as plain dataclasses.

Read from ``knowledge_base/queue.yaml`` with :func:`load_queue_config`. Services and
counters are copied into the database on first start (:func:`motcua.queue.service.seed_queue`)
and edited by staff through the API afterwards; priorities, the time zone and the
anti-starvation guard stay in the file. Errors name the file and what is wrong, in Vietnamese.

A service is named in a citizen's words by its name (and each part of it between commas), its
lĩnh vực and its everyday names (``aliases`` in the file: «sổ đỏ», «sao y», «tạm trú»…), all
compared folded, without diacritics (:func:`service_phrases`, :func:`services_named`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from knowledge_base.text import fold

QUEUE_FILE = Path(__file__).resolve().parents[2] / "knowledge_base" / "queue.yaml"

_PREFIX = re.compile(r"^[A-Z]$")
_CODE = re.compile(r"^[A-Z0-9_]{1,16}$")
_TOP_KEYS = frozenset({"timezone", "default_service", "default_minutes", "anti_starvation", "near_turn_ahead",
                       "services", "counters", "priorities"})
_SERVICE_KEYS = frozenset({"code", "prefix", "name", "fields", "minutes", "aliases"})
_COUNTER_KEYS = frozenset({"number", "name", "services"})
_PRIORITY_KEYS = frozenset({"code", "name", "weight"})
_SHORTEST_PHRASE = 3  # «cccd», «bhxh» count; shorter folded phrases would match by accident


def nfc(text: Any) -> str:
    return unicodedata.normalize("NFC", str(text)).strip()


@dataclass(frozen=True)
class ServiceConfig:
    code: str
    prefix: str
    name: str
    fields: tuple[str, ...] = ()
    minutes: float = 8.0
    aliases: tuple[str, ...] = ()
    """Everyday names a citizen uses for the service («sổ đỏ», «sao y»), for choosing it from words."""

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise ValueError(f"mã dịch vụ '{self.code}' chỉ gồm chữ in hoa, số, gạch dưới (tối đa 16 ký tự)")
        if not _PREFIX.match(self.prefix):
            raise ValueError(f"dịch vụ {self.code}: 'prefix' phải là một chữ cái in hoa A–Z, không phải '{self.prefix}'")
        if not self.name:
            raise ValueError(f"dịch vụ {self.code}: thiếu 'name'")
        if self.minutes <= 0:
            raise ValueError(f"dịch vụ {self.code}: 'minutes' phải lớn hơn 0")


@dataclass(frozen=True)
class CounterConfig:
    number: int
    name: str
    services: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.number <= 0:
            raise ValueError(f"số quầy phải là số nguyên dương, không phải {self.number}")
        if not self.services:
            raise ValueError(f"quầy {self.number}: cần ít nhất một dịch vụ trong 'services'")


@dataclass(frozen=True)
class PriorityCategory:
    code: str
    name: str
    weight: int

    def __post_init__(self) -> None:
        if self.weight <= 0:
            raise ValueError(f"nhóm ưu tiên {self.code}: 'weight' phải là số nguyên dương")


@dataclass(frozen=True)
class QueueConfig:
    services: tuple[ServiceConfig, ...]
    counters: tuple[CounterConfig, ...]
    priorities: tuple[PriorityCategory, ...] = ()
    timezone: str = "Asia/Ho_Chi_Minh"
    default_service: str = ""
    default_minutes: float = 8.0
    anti_starvation: int = 3
    near_turn_ahead: int = 3
    _priority_index: dict[str, PriorityCategory] = field(default_factory=dict, init=False, repr=False,
                                                         compare=False)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"múi giờ không hợp lệ: '{self.timezone}'") from exc
        codes = [s.code for s in self.services]
        prefixes = [s.prefix for s in self.services]
        for kind, values in (("mã dịch vụ", codes), ("chữ cái (prefix)", prefixes)):
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"{kind} bị trùng: {', '.join(dupes)}")
        numbers = [c.number for c in self.counters]
        if len(set(numbers)) != len(numbers):
            raise ValueError("số quầy bị trùng")
        for counter in self.counters:
            unknown = [s for s in counter.services if s not in codes]
            if unknown:
                raise ValueError(f"quầy {counter.number}: dịch vụ không có trong 'services': {', '.join(unknown)}")
        if self.default_service and self.default_service not in codes:
            raise ValueError(f"'default_service' {self.default_service} không có trong 'services'")
        if self.anti_starvation < 1:
            raise ValueError("'anti_starvation' phải là số nguyên dương")
        if self.near_turn_ahead < 0:
            raise ValueError("'near_turn_ahead' không được âm")
        if self.default_minutes <= 0:
            raise ValueError("'default_minutes' phải lớn hơn 0")
        index = {p.code: p for p in self.priorities}
        if len(index) != len(self.priorities):
            raise ValueError("mã nhóm ưu tiên bị trùng")
        self._priority_index.update(index)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def service(self, code: str) -> ServiceConfig | None:
        """The file's service ``code`` (None for a service staff added through the API)."""
        return next((s for s in self.services if s.code == code), None)

    def priority_name(self, code: str) -> str:
        """The category's name, or "" for ordinary tickets and categories since removed from the file."""
        category = self._priority_index.get(code) if code else None
        return category.name if category else ""

    def priority(self, code: str) -> PriorityCategory | None:
        """The category for ``code``; ``""`` (ordinary) gives None, an unknown code raises."""
        if not code:
            return None
        try:
            return self._priority_index[code]
        except KeyError:
            raise ValueError(f"nhóm ưu tiên không có: '{code}'") from None


def service_phrases(name: str, fields: Iterable[str] = (), aliases: Iterable[str] = ()) -> frozenset[str]:
    """The folded phrases that name a service: its name and each part of it between commas
    («Cư trú, căn cước» → «cu tru can cuoc», «cu tru», «can cuoc»), its lĩnh vực, its everyday names."""
    candidates = [name, *name.split(","), *fields, *aliases]
    return frozenset(phrase for phrase in map(fold, candidates) if len(phrase) >= _SHORTEST_PHRASE)


def services_named(text: str, phrases: Mapping[str, Iterable[str]]) -> list[str]:
    """The codes of the services ``text`` names (folded, whole words), in the order of ``phrases``.

    A phrase that only appears inside a longer phrase of another service that also appears does not
    count: «hộ kinh doanh» names the business service even if another one answers to «kinh doanh».
    Several codes mean the words fit several services equally well.
    """
    query = f" {fold(text)} "
    spans: list[tuple[int, int, str]] = []
    for code, names in phrases.items():
        for phrase in names:
            start = query.find(f" {phrase} ")
            while start != -1:
                spans.append((start + 1, start + 1 + len(phrase), code))
                start = query.find(f" {phrase} ", start + 1)
    named = {code for begin, end, code in spans
             if not any(b <= begin and end <= e and e - b > end - begin for b, e, _ in spans)}
    return [code for code in phrases if code in named]


def _mapping(data: Any, keys: frozenset[str], where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: cần một bảng khóa: giá trị")
    unknown = sorted(set(data) - keys)
    if unknown:
        raise ValueError(f"{where}: khóa không hợp lệ {', '.join(map(str, unknown))} "
                         f"(dùng được: {', '.join(sorted(keys))})")
    return data


def _list(data: Any, where: str) -> list[Any]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise ValueError(f"{where}: cần một danh sách")
    return data


def queue_config_from_dict(data: dict[str, Any], where: str = "queue.yaml") -> QueueConfig:
    """Build and validate the configuration from parsed YAML (errors say where)."""
    data = _mapping(data, _TOP_KEYS, where)
    try:
        services = []
        for n, item in enumerate(_list(data.get("services"), f"{where}: services"), 1):
            item = _mapping(item, _SERVICE_KEYS, f"{where}: services mục {n}")
            services.append(ServiceConfig(
                code=nfc(item.get("code", "")), prefix=nfc(item.get("prefix", "")), name=nfc(item.get("name", "")),
                fields=tuple(nfc(f) for f in _list(item.get("fields"), f"{where}: services mục {n} fields")),
                minutes=float(item.get("minutes", data.get("default_minutes", 8))),
                aliases=tuple(nfc(a) for a in _list(item.get("aliases"), f"{where}: services mục {n} aliases")),
            ))
        counters = []
        for n, item in enumerate(_list(data.get("counters"), f"{where}: counters"), 1):
            item = _mapping(item, _COUNTER_KEYS, f"{where}: counters mục {n}")
            counters.append(CounterConfig(
                number=int(item.get("number", 0)), name=nfc(item.get("name") or f"Quầy số {item.get('number')}"),
                services=tuple(nfc(s) for s in _list(item.get("services"), f"{where}: counters mục {n} services")),
            ))
        priorities = []
        for n, item in enumerate(_list(data.get("priorities"), f"{where}: priorities"), 1):
            item = _mapping(item, _PRIORITY_KEYS, f"{where}: priorities mục {n}")
            priorities.append(PriorityCategory(code=nfc(item.get("code", "")), name=nfc(item.get("name", "")),
                                               weight=int(item.get("weight", 0))))
        if not services:
            raise ValueError("cần ít nhất một dịch vụ trong 'services'")
        return QueueConfig(
            services=tuple(services), counters=tuple(counters), priorities=tuple(priorities),
            timezone=nfc(data.get("timezone", "Asia/Ho_Chi_Minh")),
            default_service=nfc(data.get("default_service") or ""),
            default_minutes=float(data.get("default_minutes", 8)),
            anti_starvation=int(data.get("anti_starvation", 3)),
            near_turn_ahead=int(data.get("near_turn_ahead", 3)),
        )
    except (TypeError, ValueError) as exc:
        if str(exc).startswith(where):
            raise
        raise ValueError(f"{where}: {exc}") from exc


def load_queue_config(path: Path | str | None = None) -> QueueConfig:
    """The queue configuration in ``path`` (default: ``knowledge_base/queue.yaml``)."""
    file = Path(path) if path is not None else QUEUE_FILE
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{file}: YAML không hợp lệ: {exc}") from exc
    return queue_config_from_dict(data or {}, str(file))
