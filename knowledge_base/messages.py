"""The catalogue of what the assistant says: message ids in code, Vietnamese sentences in ``messages.yaml``.

The file is a tree of ids (``form: {cancelled: …}`` is the id ``form.cancelled``); each sentence is a
:meth:`str.format` template with named fields. The assistant is «Tôi», the citizen «ông/bà». ::

    >>> render("form.corrected", label="Họ, chữ đệm và tên", value="Trần Minh Khôi")
    'Dạ, tôi đã sửa «Họ, chữ đệm và tên» thành: Trần Minh Khôi.'

A :class:`Message` is an id with its parameters, for code that decides what to say before it is said.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["CATALOGUE_FILE", "Message", "MessageCatalogue", "load_catalogue", "render"]

CATALOGUE_FILE = Path(__file__).with_name("messages.yaml")


@dataclass(frozen=True)
class Message:
    """One sentence to say: its id in the catalogue and the values of its fields."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, catalogue: MessageCatalogue | None = None) -> str:
        return (catalogue or load_catalogue()).render(self.key, **self.params)


class MessageCatalogue:
    """Message id → template; rendering names the id and the field when one is missing."""

    def __init__(self, templates: Mapping[str, str]):
        self.templates = dict(templates)

    @classmethod
    def from_file(cls, path: str | Path) -> MessageCatalogue:
        path = Path(path)
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, Mapping):
            raise ValueError(f"{path}: expected a mapping of message ids")
        templates: dict[str, str] = {}
        _flatten(path, "", data, templates)
        return cls(templates)

    def fields(self, key: str) -> set[str]:
        """The named fields a message needs."""
        return {name for _, name, _, _ in string.Formatter().parse(self.template(key)) if name}

    def template(self, key: str) -> str:
        try:
            return self.templates[key]
        except KeyError:
            raise KeyError(f"no message {key!r} in the catalogue") from None

    def render(self, key: str, **params: Any) -> str:
        try:
            return self.template(key).format(**params)
        except KeyError as exc:
            if exc.args and str(exc.args[0]).startswith("no message"):
                raise
            raise KeyError(f"message {key!r} needs the field {exc.args[0]!r}") from None


def _flatten(path: Path, prefix: str, data: Mapping[str, Any], into: dict[str, str]) -> None:
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            _flatten(path, key + ".", value, into)
        elif isinstance(value, str) and value.strip():
            list(string.Formatter().parse(value))  # a malformed template fails here, at load
            into[key] = value
        else:
            raise ValueError(f"{path}: message {key!r} must be a non-empty string or a group of messages")


@lru_cache(maxsize=1)
def load_catalogue(path: str | Path = CATALOGUE_FILE) -> MessageCatalogue:
    """The catalogue, read once per process."""
    return MessageCatalogue.from_file(path)


def render(key: str, **params: Any) -> str:
    """The sentence ``key`` from the catalogue, its fields filled from ``params``."""
    return load_catalogue().render(key, **params)
