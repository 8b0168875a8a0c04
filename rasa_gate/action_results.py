"""Check custom actions' answers with a validator built once, instead of once per answer.

Rasa 3.6 validates each action server answer with `jsonschema.validate(result, schema)`, which
first re-checks the schema against JSON Schema's meta-schema (`check_schema`). For Rasa's events
schema that costs ~24 ms on this project's 2-core machine against ~0.6 ms for the answer itself,
and a turn gets two or three answers: it was 14-35% of the server's time in a turn
(docs/benchmarks.md, "A customer's history"). Rasa offers no setting for it, so `install` replaces
`RemoteAction._validate_action_result` with the same check on a validator made once: the same
schema, the same validator class, the same error chosen (`best_match`) with the same message.

It installs only on the Rasa version it was written for; on any other it leaves Rasa alone
(correct, only slower) and says so.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Text

log = logging.getLogger(__name__)
RASA_VERSION_PREFIX = "3.6."


def install() -> bool:
    """Put the cached validation in place; False (Rasa unchanged) on an unexpected Rasa."""
    import rasa
    from jsonschema import validators
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    original = getattr(RemoteAction, "_validate_action_result", None)
    if not rasa.__version__.startswith(RASA_VERSION_PREFIX) or original is None:
        log.warning("rasa_gate.action_results: written for Rasa %sx, not %s; action answers are checked "
                    "the slow way", RASA_VERSION_PREFIX, rasa.__version__)
        return False
    if getattr(original, "cached_validator", False):
        return True
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)  # the once that jsonschema.validate would do on every call
    validator = cls(schema)

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        # Rasa's own wording (rasa/core/actions/action.py, RemoteAction._validate_action_result).
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    _validate_action_result.cached_validator = True  # type: ignore[attr-defined]
    _validate_action_result.__doc__ = original.__doc__
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    return True
