"""Rasa's ``responses`` in ``domain.yml`` say what the message catalogue says.

Rasa reads its responses from the domain file, so their words are copied there from the catalogue,
never written there first: :func:`sync_domain` rewrites each response text and button title of
``domain.yml`` from its catalogue id and leaves every other line (comments, payloads, the order)
as it is; ``motcua messages domain`` runs it, and a test fails when the two disagree.

The ids: the first text of ``utter_goodbye`` is ``response.utter_goodbye``, a second variant
``response.utter_goodbye.2``; a button whose payload is a bare intent (``/request_human``) is
``button.request_human`` — the same label wherever that button appears —, any other button is
``response.<name>.button.<n>`` (the n-th button of that response).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from knowledge_base.messages import MessageCatalogue, load_catalogue

__all__ = ["DOMAIN_FILE", "DomainText", "domain_texts", "sync_domain"]

DOMAIN_FILE = Path(__file__).resolve().parent.parent / "domain.yml"

_RESPONSE = re.compile(r"^  (utter_\w+):\s*$")
_TEXT = re.compile(r"^(\s*-\s*text:\s*)(\".*\"|'.*'|.+)$")
_TITLE = re.compile(r"^(\s*-\s*title:\s*)(\".*\"|'.*'|.+)$")
_PAYLOAD = re.compile(r"^\s*payload:\s*(\".*\"|'.*'|.+)$")
_BARE_INTENT = re.compile(r"^/(\w+)$")


@dataclass(frozen=True)
class DomainText:
    """One text of the domain file: its line (0-based), the catalogue id, the words there now."""

    line: int
    key: str
    prefix: str
    value: str


def _scalar(raw: str) -> str:
    import yaml

    value = yaml.safe_load(raw)
    return value if isinstance(value, str) else str(value)


def domain_texts(text: str) -> list[DomainText]:
    """Every response text and button title of a domain file, with its catalogue id."""
    lines = text.splitlines()
    found: list[DomainText] = []
    in_responses, response, variant, button = False, "", 0, 0
    for number, line in enumerate(lines):
        if re.match(r"^\S", line):
            in_responses = line.startswith("responses:")
            continue
        if not in_responses:
            continue
        if match := _RESPONSE.match(line):
            response, variant, button = match.group(1), 0, 0
        elif (match := _TEXT.match(line)) and response:
            variant += 1
            key = f"response.{response}" + (f".{variant}" if variant > 1 else "")
            found.append(DomainText(number, key, match.group(1), _scalar(match.group(2))))
        elif (match := _TITLE.match(line)) and response:
            button += 1
            following = lines[number + 1] if number + 1 < len(lines) else ""
            payload = _PAYLOAD.match(following)
            intent = _BARE_INTENT.match(_scalar(payload.group(1))) if payload else None
            key = f"button.{intent.group(1)}" if intent else f"response.{response}.button.{button}"
            found.append(DomainText(number, key, match.group(1), _scalar(match.group(2))))
    return found


def sync_domain(text: str, catalogue: MessageCatalogue | None = None) -> str:
    """The domain file with every response text and button title taken from the catalogue."""
    catalogue = catalogue or load_catalogue()
    lines = text.splitlines()
    for item in domain_texts(text):
        words = catalogue.template(item.key)
        lines[item.line] = item.prefix + json.dumps(words, ensure_ascii=False)
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")
