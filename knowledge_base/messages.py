"""The catalogue of what the assistant says: message ids in code, sentences in gettext ``.po`` files.

Every sentence, button and page label a citizen reads is a message id here (``form.cancelled``,
``answer.fee_one``, ``page.kiosk.send``…) with one template per language, read through Babel from
``knowledge_base/locale/<language>/LC_MESSAGES/*.po``: Vietnamese (``vi``) is the source and
always complete; English (``en``) may leave a message untranslated, and then says it in Vietnamese.
The ids are symbolic so a sentence may be reworded without touching code; the ``.po`` files can be
edited with any gettext tool (Poedit, Weblate) or by hand. Each template is a :meth:`str.format`
template with named fields. The assistant is «Tôi», the citizen «ông/bà» (README, «One voice»). ::

    >>> render("form.corrected", label="Họ, chữ đệm và tên", value="Trần Minh Khôi")
    'Dạ, tôi đã sửa «Họ, chữ đệm và tên» thành: Trần Minh Khôi.'

A :class:`Message` is an id with its parameters, for code that decides what to say before it is said.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "LOCALE_DIR",
    "Message",
    "MessageCatalogue",
    "catalogue_files",
    "load_catalogue",
    "normalise_locale",
    "render",
    "speaking",
]

LOCALE_DIR = Path(__file__).with_name("locale")
DEFAULT_LOCALE = "vi"
LOCALES = ("vi", "en")


def normalise_locale(value: str | None) -> str:
    """``"en-US"``, ``"EN"``, ``"en_GB"`` → ``"en"``; anything unknown or empty → Vietnamese."""
    head = str(value or "").strip().lower().replace("_", "-").split("-")[0]
    return head if head in LOCALES else DEFAULT_LOCALE


@dataclass(frozen=True)
class Message:
    """One sentence to say: its id in the catalogue and the values of its fields."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, catalogue: MessageCatalogue | None = None) -> str:
        return (catalogue or load_catalogue()).render(self.key, **self.params)


class MessageCatalogue:
    """Message id → template; rendering names the id and the field when one is missing.

    A catalogue may have a ``fallback`` (the Vietnamese one under the English one): an id it does
    not translate is taken from there.
    """

    def __init__(self, templates: Mapping[str, str], *, locale: str = DEFAULT_LOCALE,
                 fallback: MessageCatalogue | None = None):
        self.templates = dict(templates)
        self.locale = locale
        self.fallback = fallback

    @classmethod
    def from_files(cls, paths: Iterable[str | Path], *, locale: str = DEFAULT_LOCALE,
                   fallback: MessageCatalogue | None = None) -> MessageCatalogue:
        templates: dict[str, str] = {}
        origin: dict[str, Path] = {}
        for path in paths:
            path = Path(path)
            for key, template in _read(path, locale):
                if key in origin:
                    raise ValueError(f"{path}: message {key!r} is also in {origin[key].name}")
                origin[key] = path
                templates[key] = template
        return cls(templates, locale=locale, fallback=fallback)

    def keys(self) -> set[str]:
        return set(self.templates) | (self.fallback.keys() if self.fallback else set())

    def fields(self, key: str) -> set[str]:
        """The named fields a message needs."""
        return template_fields(self.template(key))

    def template(self, key: str) -> str:
        if key in self.templates:
            return self.templates[key]
        if self.fallback is not None:
            return self.fallback.template(key)
        raise KeyError(f"no message {key!r} in the catalogue")

    def render(self, key: str, **params: Any) -> str:
        try:
            return self.template(key).format(**params)
        except KeyError as exc:
            if exc.args and str(exc.args[0]).startswith("no message"):
                raise
            raise KeyError(f"message {key!r} needs the field {exc.args[0]!r}") from None

    def group(self, prefix: str) -> dict[str, str]:
        """Every message whose id starts with ``prefix`` (the pages take theirs as one JSON object)."""
        keys = sorted(key for key in self.keys() if key.startswith(prefix))
        return {key: self.template(key) for key in keys}


def template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _read(path: Path, locale: str) -> list[tuple[str, str]]:
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    entries: list[tuple[str, str]] = []
    for message in catalog:
        if not message.id or not isinstance(message.id, str):
            continue  # the header, or a plural entry (not used)
        text = message.string if isinstance(message.string, str) else ""
        if message.fuzzy or not text.strip():
            if locale == DEFAULT_LOCALE:
                raise ValueError(f"{path}: message {message.id!r} has no Vietnamese sentence")
            continue  # untranslated: the Vietnamese one is said
        try:
            list(string.Formatter().parse(text))
        except ValueError as exc:
            raise ValueError(f"{path}: message {message.id!r} is not a valid template: {exc}") from None
        entries.append((message.id, text))
    return entries


def catalogue_files(locale: str = DEFAULT_LOCALE, locale_dir: Path = LOCALE_DIR) -> list[Path]:
    return sorted((locale_dir / locale / "LC_MESSAGES").glob("*.po"))


@lru_cache(maxsize=8)
def load_catalogue(locale: str = DEFAULT_LOCALE, locale_dir: Path = LOCALE_DIR) -> MessageCatalogue:
    """The catalogue of one language, read once per process; English falls back to Vietnamese."""
    locale = normalise_locale(locale)
    vietnamese = MessageCatalogue.from_files(catalogue_files(DEFAULT_LOCALE, locale_dir))
    if locale == DEFAULT_LOCALE:
        return vietnamese
    return MessageCatalogue.from_files(catalogue_files(locale, locale_dir), locale=locale, fallback=vietnamese)


_SPEAKING: ContextVar[str | None] = ContextVar("motcua_speaking", default=None)


@contextmanager
def speaking(locale: str | None) -> Iterator[str]:
    """Within the block, :func:`render` without a ``locale`` speaks ``locale`` (the action server
    sets the citizen's language for one action call; tasks and worker threads started inside inherit it)."""
    chosen = normalise_locale(locale)
    token = _SPEAKING.set(chosen)
    try:
        yield chosen
    finally:
        _SPEAKING.reset(token)


def render(key: str, /, *, locale: str | None = None, **params: Any) -> str:
    """The sentence ``key`` from the catalogue, its fields filled from ``params``; without a
    ``locale``, in the language of the enclosing :func:`speaking` block (else Vietnamese)."""
    return load_catalogue(normalise_locale(locale if locale is not None else _SPEAKING.get())).render(key, **params)
