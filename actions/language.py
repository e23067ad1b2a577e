"""The citizen's language in the action server.

A client names its language (REST ``lang``, a page's ``?lang=``, Telegram's ``language_code``);
the gateway puts it in the message's metadata (``language``), Rasa hands the metadata to every
action call as ``tracker.latest_message.metadata``. :func:`run_in_language` runs one action call
inside :func:`knowledge_base.messages.speaking`, so every sentence the actions render from the
catalogue is in that language when ``locale/<lang>`` translates it (Vietnamese otherwise).

A response an action names (``utter_message(response="utter_answer_abstain")``) is written by Rasa
from ``domain.yml``, which is Vietnamese: for another language the action's answer carries the
catalogue's translation as plain text and buttons instead (payloads from ``domain.yml``), when the
catalogue translates that response; otherwise Rasa's Vietnamese response is left as it is.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from knowledge_base.domain_responses import DOMAIN_FILE
from knowledge_base.messages import DEFAULT_LOCALE, load_catalogue, normalise_locale, render, speaking

__all__ = ["call_locale", "run_in_language", "translate_responses"]


def call_locale(action_call: Any) -> str:
    """The language of an action call (its latest message's ``metadata.language``), else Vietnamese."""
    tracker = action_call.get("tracker") if isinstance(action_call, dict) else None
    latest = tracker.get("latest_message") if isinstance(tracker, dict) else None
    metadata = latest.get("metadata") if isinstance(latest, dict) else None
    return normalise_locale(metadata.get("language") if isinstance(metadata, dict) else None)


async def run_in_language(executor: Any, action_call: Any) -> dict[str, Any] | None:
    """``executor.run(action_call)`` in the call's language; the result as Rasa's action endpoint
    answers it (``{"events": [...], "responses": [...]}``), or ``None``."""
    with speaking(call_locale(action_call)) as locale:
        result = await executor.run(action_call)
        body = result.model_dump() if result is not None else None
        if body is not None and locale != DEFAULT_LOCALE:
            body["responses"] = translate_responses(body.get("responses") or [], locale)
    return body


@lru_cache(maxsize=4)
def _domain_buttons(path: Path = DOMAIN_FILE) -> dict[str, list[dict[str, str]]]:
    """Each response's buttons in ``domain.yml`` (its first variant): payloads, Vietnamese titles."""
    import yaml

    responses = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {}
    found: dict[str, list[dict[str, str]]] = {}
    for name, variants in responses.items():
        first = variants[0] if isinstance(variants, list) and variants and isinstance(variants[0], dict) else {}
        # a payload's JSON is written {{ }} there (Rasa's placeholder escape); Rasa sends it with one brace
        found[name] = [{"title": str(b.get("title", "")),
                        "payload": str(b.get("payload", "")).replace("{{", "{").replace("}}", "}")}
                       for b in first.get("buttons") or [] if isinstance(b, dict)]
    return found


def _button_title(response: str, number: int, button: dict[str, str], locale: str) -> str:
    payload = button["payload"]
    if payload.startswith("/") and payload[1:].isidentifier():
        return render(f"button.{payload[1:]}", locale=locale)
    key = f"response.{response}.button.{number}"
    return render(key, locale=locale) if key in load_catalogue(locale).keys() else button["title"]


def translate_responses(responses: list[dict[str, Any]], locale: str) -> list[dict[str, Any]]:
    """Responses named by the actions, as text and buttons in ``locale`` where the catalogue
    translates them (the others unchanged: Rasa then says its Vietnamese response)."""
    catalogue = load_catalogue(locale)
    translated: list[dict[str, Any]] = []
    for message in responses:
        name = message.get("response") or message.get("template")
        key = f"response.{name}"
        if not name or key not in catalogue.templates or catalogue.fields(key):  # Rasa's own words (and slots)
            translated.append(message)
            continue
        buttons = [{"title": _button_title(name, n, b, locale), "payload": b["payload"]}
                   for n, b in enumerate(_domain_buttons().get(name, []), start=1)]
        translated.append({**message, "response": None, "template": None, "text": catalogue.render(key),
                           "buttons": buttons + list(message.get("buttons") or [])})
    return translated
