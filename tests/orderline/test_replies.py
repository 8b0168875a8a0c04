"""Replies to proactive messages: COD YES/NO, CSAT, NDR quick replies, context for the assistant."""
import json

import pytest
from sqlalchemy import select

from orderline.models import Order, OrderFeedback
from orderline.notifications import queue_notification
from orderline.orders import in_transaction
from tests.support.values import NOW, demo_id


def sent(services, order_id, event):
    """A notification about `order_id` that went out an hour ago."""
    def work(session):
        order = session.scalars(select(Order).where(Order.order_id == order_id)).one()
        note = queue_notification(session, order, event, NOW)
        note.status, note.sent_at = "sent", NOW.replace(hour=10)
    in_transaction(services.sessions, work)


def feedback(services, order_id):
    with services.sessions() as s:
        return [(f.kind, f.value, f.comment) for f in s.scalars(
            select(OrderFeedback).join(Order, Order.id == OrderFeedback.order_pk).where(Order.order_id == order_id))]


def test_no_context_passes_text_through(services, demo):
    out = services.replies.handle("+919000000099", "YES")
    assert out.answer is None and out.message == "YES" and out.metadata == {}


def test_cod_yes_is_recorded(services, demo):
    oid = demo_id(demo, "confirmed", method="cod")
    sent(services, oid, "confirmed")
    out = services.replies.handle(demo[oid]["customer"]["phone"], "Haan", message_sid="SMy")
    assert "confirmed" in out.answer
    assert feedback(services, oid) == [("cod_confirmation", "yes", "Haan")]
    again = services.replies.handle(demo[oid]["customer"]["phone"], "yes")
    assert again.answer is None and again.metadata["order_id"] == oid  # answered once; now it's chat


def test_cod_no_cancels_before_shipping(services, demo):
    oid = demo_id(demo, "confirmed", method="cod")
    sent(services, oid, "confirmed")
    out = services.replies.handle(demo[oid]["customer"]["phone"], "NO")
    assert "cancelled" in out.answer
    assert services.orders.get(oid).status == "cancelled"
    assert feedback(services, oid) == [("cod_confirmation", "no", "NO")]


def test_csat_low_score_escalates_with_comment(services, demo):
    oid = demo_id(demo, "delivered")
    phone = demo[oid]["customer"]["phone"]
    sent(services, oid, "delivered")
    out = services.replies.handle(phone, "2 - box was torn", message_sid="SMc")
    assert out.escalation.reason == "complaint" and out.escalation.order_id == oid
    assert "CSAT 2/5: box was torn" == out.escalation.note
    assert feedback(services, oid) == [("csat", "2", "box was torn")]


def test_csat_high_score_thanks(services, demo):
    oid = demo_id(demo, "delivered")
    sent(services, oid, "delivered")
    out = services.replies.handle(demo[oid]["customer"]["phone"], "5")
    assert out.escalation is None and "Thank you" in out.answer


@pytest.mark.parametrize("reply,intent", [("1", "reschedule_delivery"), ("2", "change_address"), ("3", "human_handoff")])
def test_ndr_quick_replies_become_assistant_payloads(services, demo, reply, intent):
    oid = demo_id(demo, "delivery_failed")
    sent(services, oid, "delivery_failed")
    out = services.replies.handle(demo[oid]["customer"]["phone"], reply, message_sid="SMn")
    assert out.answer is None
    assert out.message == "/" + intent + json.dumps({"order_id": oid})
    assert out.metadata == {"order_id": oid, "in_reply_to": "delivery_failed", "message_sid": "SMn"}


def test_free_text_reply_carries_the_order(services, demo):
    oid = demo_id(demo, "delivery_failed")
    sent(services, oid, "delivery_failed")
    out = services.replies.handle(demo[oid]["customer"]["phone"], "kal shaam ko aa jao")
    assert out.message == "kal shaam ko aa jao" and out.metadata["order_id"] == oid
