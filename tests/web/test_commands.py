"""JSON bodies become the core's typed commands; bad types and values are refused with every field named."""
import pytest

from orderline.errors import InvalidInput
from orderline.escalations import OpenEscalation
from web.commands import open_escalation

PHONE = "+919000000001"


@pytest.mark.parametrize("body", [{"reason": "refunds"}, {"reason": ["payments"]}, {"intent": 3},
                                  {"priority": True}, {"confidence": "high"}, {"channel": "sms"}])
def test_a_bad_field_is_invalid_input(body):
    with pytest.raises(InvalidInput) as err:
        open_escalation({"phone": PHONE, **body})
    assert set(err.value.fields) == set(body)


def test_not_an_object_is_invalid_input():
    with pytest.raises(InvalidInput) as err:
        open_escalation(["phone", PHONE])
    assert err.value.fields == {"body": "expected a JSON object"}


def test_a_body_becomes_a_checked_command():
    command = open_escalation({"sender": "+91 90000 00001", "intent": "refund_status", "note": "x" * 3000})
    assert command == OpenEscalation(PHONE, reason="payments", channel="whatsapp", intent="refund_status",
                                     priority=1, note="x" * 2000)
