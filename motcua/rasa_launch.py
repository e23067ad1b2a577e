"""``rasa run`` with the action server's answers checked by a schema compiled once.

Run as a file by Rasa's own interpreter (``.venvs/rasa/bin/python motcua/rasa_launch.py run …``, what
:func:`motcua.runtime.rasa_run_command` starts): it imports only Rasa and its dependencies (Python 3.10),
never the app's packages.

Rasa 3.6 checks every answer of the action server against its response schema with
``jsonschema.validate``, which first checks *the schema itself* against JSON Schema's meta-schema and
builds a new validator — every action, every turn. Profiled under 16 citizens at once
(``py-spy`` on the Rasa process of ``bench/bench_scale.py``), that was about a third of Rasa's CPU, more
than the NLU and the policies together. Here the schema is checked and the validator built once, at start;
each answer is still validated in full, against the same schema, with the same error (the best match,
with Rasa's own words appended) when it does not fit.

It also keeps two secrets out of Rasa's SQL tracker store (the ``events`` table, kept for the retention
period): a dossier's lookup PIN a citizen typed («mã tra cứu 123456», which with the dossier's code opens
its status) and the token of a link in the assistant's replies (``…/payment?token=…``, a queue ticket's
``/queue/ticket/<token>``). They are written hidden, as :func:`motcua.privacy.mask_identifiers` and
``redact_tokens`` hide them from the app's logs (the same patterns: ``tests/motcua/test_rasa_launch.py``
checks they agree); the turn they arrive in still reads them whole (an action is called before its events
are stored), and nothing that a later turn needs is in them.
"""

from __future__ import annotations

import os
import sys

# Run as a file, this directory comes first on the path, where ``motcua/queue`` would hide the standard
# library's ``queue`` from Rasa's dependencies: Rasa must see only its own environment.
if sys.path and os.path.realpath(sys.path[0] or ".") == os.path.dirname(os.path.realpath(__file__)):
    del sys.path[0]

import re  # noqa: E402
from typing import Any  # noqa: E402

LOOKUP_PIN = re.compile(r"((?:mã\s*tra\s*cứu|ma\s*tra\s*cuu|\bpin\b)\D{0,12}?)(\d{3}[ .]?\d{3})(?!\d)", re.IGNORECASE)
TOKEN_QUERY = re.compile(r"(?i)((?:^|[?&;\s\"'])[\w.-]*token=)[^&\s\"'#]+")
TOKEN_PATH = re.compile(r"(/queue/tickets?/)[^/?\s\"'#]+")
PIN_MASK, REDACTED = "******", "[redacted]"


def hide_secrets(value: Any) -> Any:
    """A JSON-like value with every lookup PIN and link token in its strings hidden, and the value of a secret
    key (``token``, ``…_token``: a queue ticket's in a reply's payload) (keys themselves are left alone)."""
    if isinstance(value, str):
        if any(c.isdigit() for c in value):
            value = LOOKUP_PIN.sub(lambda m: m.group(1) + PIN_MASK, value)
        if "token=" in value.lower():
            value = TOKEN_QUERY.sub(lambda m: m.group(1) + REDACTED, value)
        if "/queue/ticket" in value:
            value = TOKEN_PATH.sub(lambda m: m.group(1) + REDACTED, value)
        return value
    if isinstance(value, dict):  # a payload's «token» / «…_token» value is a link's secret whole
        return {k: REDACTED if _secret_key(k) and isinstance(v, str) else hide_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [hide_secrets(v) for v in value]
    return value


def _secret_key(key: Any) -> bool:
    return isinstance(key, str) and (key.lower() == "token" or key.lower().endswith("_token"))


class _Stored:
    """An event as the SQL tracker store writes it (``type_name`` and ``as_dict()``), its secrets hidden."""

    def __init__(self, event: Any, data: dict[str, Any]):
        self.type_name = event.type_name
        self._data = data

    def as_dict(self) -> dict[str, Any]:
        return self._data


def hide_secrets_in_tracker_store() -> None:
    """Make Rasa's SQL tracker store write each new event with :func:`hide_secrets` applied."""
    from rasa.core.tracker_store import SQLTrackerStore

    new_events = SQLTrackerStore._additional_events

    def additional_events(self: Any, session: Any, tracker: Any) -> Any:
        for event in new_events(self, session, tracker):
            data = event.as_dict()
            hidden = hide_secrets(data)
            yield event if hidden == data else _Stored(event, hidden)

    SQLTrackerStore._additional_events = additional_events  # type: ignore[method-assign]


def compile_action_response_check() -> None:
    """Replace ``RemoteAction._validate_action_result`` by the same check with a validator built once."""
    from jsonschema import exceptions, validators
    from rasa.core.actions import action

    schema = action.RemoteAction.action_response_format_spec()
    kind = validators.validator_for(schema)
    kind.check_schema(schema)
    validator = kind(schema)
    advice = (". Failed to validate Action server response from API, make sure your response from the Action "
              f"endpoint is valid. For more information about the format visit {action.DOCS_BASE_URL}/custom-actions")

    def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        error = exceptions.best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += advice
        raise error

    action.RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


def main() -> None:
    compile_action_response_check()
    hide_secrets_in_tracker_store()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
