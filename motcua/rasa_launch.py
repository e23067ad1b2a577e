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
"""

from __future__ import annotations

import os
import sys

# Run as a file, this directory comes first on the path, where ``motcua/queue`` would hide the standard
# library's ``queue`` from Rasa's dependencies: Rasa must see only its own environment.
if sys.path and os.path.realpath(sys.path[0] or ".") == os.path.dirname(os.path.realpath(__file__)):
    del sys.path[0]

from typing import Any  # noqa: E402


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
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
