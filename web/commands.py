"""JSON bodies read into the core's typed commands: the only place the API's field names meet them."""
from __future__ import annotations

from typing import Any

from edge.text import customer_text
from orderline.errors import InvalidInput
from orderline.escalations import OpenEscalation

TEXT_FIELDS = ("reason", "channel", "intent", "order_id", "call_sid", "note")
# Fields of the order API's bodies that carry a customer's own words (the assistant's actions
# quote them): redacted here, as the channels' front doors redact what customers send.
CUSTOMER_WORDS = ("customer_words", "details", "reason")


def customer_words(data: Any) -> Any:
    """`data` with the text of its CUSTOMER_WORDS fields redacted (`edge.text.customer_text`);
    anything that is not a JSON object, or a field that is not text, is left for the core to refuse."""
    if not isinstance(data, dict):
        return data
    return {**data, **{k: customer_text(v) for k, v in data.items() if k in CUSTOMER_WORDS and isinstance(v, str)}}


def open_escalation(data: Any) -> OpenEscalation:
    """`POST /api/v1/escalations`: the fields' JSON types are checked here, their values by the core."""
    if not isinstance(data, dict):
        raise InvalidInput({"body": "expected a JSON object"})
    errors: dict[str, str] = {}
    for key in TEXT_FIELDS:
        if data.get(key) is not None and not isinstance(data[key], str):
            errors[key] = "text"
    confidence, priority = data.get("confidence"), data.get("priority")
    if confidence is not None and (isinstance(confidence, bool) or not isinstance(confidence, (int, float))):
        errors["confidence"] = "a number from 0 to 1"
    if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)):
        errors["priority"] = "1 (urgent) to 3"
    if errors:
        raise InvalidInput(errors)
    command = OpenEscalation(
        phone=str(data.get("phone") or data.get("sender") or ""), reason=data.get("reason") or None,
        channel=data.get("channel") or "whatsapp", intent=data.get("intent") or None, confidence=confidence,
        priority=priority, order_id=data.get("order_id") or None, note=customer_text(data.get("note")),
        call_sid=data.get("call_sid") or None, callback_requested=bool(data.get("callback_requested")))
    return command.checked()
