"""Replies to proactive messages through the real WhatsApp webhook."""
from __future__ import annotations

import json

from tests.support.notices import sent
from tests.support.values import demo_id
from tests.support.whatsapp import bodies


def test_cod_yes_is_answered_without_the_assistant(whatsapp, services, fake_rasa, demo):
    oid = demo_id(demo, "confirmed", method="cod")
    phone = demo[oid]["customer"]["phone"]
    sent(services, oid, "confirmed")
    [reply] = bodies(whatsapp("YES", phone=phone))
    assert oid in reply and "confirmed" in reply
    assert fake_rasa.heard() == []


def test_low_csat_opens_a_complaint_and_mutes_the_bot(whatsapp, services, fake_rasa, demo):
    oid = demo_id(demo, "delivered")
    phone = demo[oid]["customer"]["phone"]
    sent(services, oid, "delivered")
    replies = bodies(whatsapp("1 parcel was wet", phone=phone))
    assert any("sorry" in r.lower() for r in replies)
    [esc] = services.escalations.list("open")
    assert (esc.reason, esc.order_id, esc.note) == ("complaint", oid, "CSAT 1/5: parcel was wet")
    assert services.conversations.state(phone) == "waiting_for_agent"
    assert fake_rasa.heard() == []


def test_ndr_choice_reaches_the_assistant_as_a_payload_with_the_order(whatsapp, services, fake_rasa, demo):
    oid = demo_id(demo, "delivery_failed")
    phone = demo[oid]["customer"]["phone"]
    sent(services, oid, "delivery_failed")
    bodies(whatsapp("1", phone=phone, sid="SMndr1"))
    [call] = fake_rasa.heard()
    assert call["message"] == "/reschedule_delivery" + json.dumps({"order_id": oid})
    assert call["metadata"]["order_id"] == oid and call["metadata"]["message_sid"] == "SMndr1"
