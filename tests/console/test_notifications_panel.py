"""The order panel lists the order's proactive messages with their status; agents can resend one."""
from __future__ import annotations

from sqlalchemy import select

from orderline.models import AuditLog, Order
from orderline.notifications import queue_notification
from orderline.orders import in_transaction
from tests.support.agent_console import PHONE, post_form
from tests.support.values import NOW

CONV = f"/agent/conversations/{PHONE}"


def sent_notification(services, order_id: str, event: str) -> int:
    def work(session):
        order = session.scalars(select(Order).where(Order.order_id == order_id)).one()
        note = queue_notification(session, order, event, NOW)
        note.status, note.sent_at = "sent", NOW
        session.flush()
        return note.id
    return in_transaction(services.sessions, work)


def test_panel_shows_notifications_and_resend_sends_again(as_asha, services, demo, fake_twilio):
    services.conversations.record_inbound(PHONE, "whatsapp", "hi")  # inside the 24-hour window
    order_id = next(o.order_id for o in services.orders.for_phone(PHONE) if o.status == "delivered")
    nid = sent_notification(services, order_id, "delivered")
    page = as_asha.get(f"{CONV}?order={order_id}").get_data(as_text=True)
    assert "Notifications" in page and "delivered" in page and "Resend" in page
    done = post_form(as_asha, f"/agent/notifications/{nid}/resend", {"phone": PHONE}, page=CONV)
    assert done.status_code == 200 and b"Notification sent again." in done.data
    [msg] = fake_twilio.sent_to(PHONE)
    assert order_id in msg["body"]
    with services.sessions() as s:
        log = s.scalars(select(AuditLog).where(AuditLog.action == "resend")).one()
    assert log.actor == "agent:asha"


def test_resend_needs_a_signed_in_agent(client, services, demo):
    nid = sent_notification(services, services.orders.for_phone(PHONE)[0].order_id, "delivered")
    resp = client.post(f"/agent/notifications/{nid}/resend", data={"phone": PHONE})
    assert resp.status_code in (302, 401)
    assert "/agent/login" in resp.headers.get("Location", "/agent/login")


def test_stale_notification_is_not_resent(as_asha, services, demo, fake_twilio):
    placed = next(o.order_id for o in services.orders.for_phone(PHONE) if o.status == "placed")
    nid = sent_notification(services, placed, "delivered")  # news that no longer matches the order
    done = post_form(as_asha, f"/agent/notifications/{nid}/resend", {"phone": PHONE}, page=CONV)
    assert b"Could not resend the notification: skipped." in done.data
    assert fake_twilio.sent_to(PHONE) == []
