"""The queue and conversation pages as served: order, filters, the order panel, phone-width markup."""
from __future__ import annotations

from datetime import timedelta

from orderline.models import Escalation
from tests.support.agent_console import PHONE


def test_queue_sorts_by_priority_then_waiting_time_and_filters_by_reason(as_asha, services, open_escalation):
    general = open_escalation("+919000000003", "general", inbound=None)
    delivery_new = open_escalation("+919000000004", "delivery", inbound=None)
    delivery_old = open_escalation("+919000000005", "delivery", inbound=None)
    complaint = open_escalation("+919000000006", "complaint", inbound=None)
    with services.sessions() as session:  # make one delivery escalation wait longer than the other
        session.get(Escalation, delivery_old.id).created_at = services.clock.now() - timedelta(minutes=25)
        session.commit()

    items = as_asha.get("/agent/api/queue").json["escalations"]
    assert [e["id"] for e in items] == [complaint.id, delivery_old.id, delivery_new.id, general.id]
    assert items[0]["url"] == "/agent/conversations/+919000000006"

    page = as_asha.get("/agent/").get_data(as_text=True)
    order = [page.index(f'data-id="{e.id}"') for e in (complaint, delivery_old, delivery_new, general)]
    assert order == sorted(order)
    assert "waiting <span class=\"wait\" data-seconds=\"1500\">25 min</span>" in page

    only = as_asha.get("/agent/api/queue?reason=delivery").json["escalations"]
    assert [e["id"] for e in only] == [delivery_old.id, delivery_new.id]
    filtered = as_asha.get("/agent/?reason=delivery").get_data(as_text=True)
    assert f'data-id="{general.id}"' not in filtered and f'data-id="{delivery_new.id}"' in filtered
    assert as_asha.get("/agent/api/queue?reason=nonsense").status_code == 422


def test_queue_shows_claimed_but_not_resolved(as_asha, asha, services, open_escalation):
    claimed = open_escalation("+919000000003", "general", inbound=None)
    resolved = open_escalation("+919000000004", "delivery", inbound=None)
    services.escalations.claim(claimed.id, asha.id)
    services.escalations.resolve(resolved.id, asha.id)
    page = as_asha.get("/agent/").get_data(as_text=True)
    assert "claimed by asha" in page
    assert f'data-id="{resolved.id}"' not in page


def test_conversation_view_shows_both_channels_and_the_order(as_asha, services, open_escalation, demo):
    services.conversations.record_outbound(PHONE, "voice", "bot", "Your order is in transit.", status="spoken")
    esc = open_escalation(note="refund promised last week")
    page = as_asha.get(f"/agent/conversations/{PHONE}").get_data(as_text=True)
    assert "Your order is in transit." in page and "Where is my refund?" in page  # voice and WhatsApp
    assert "ch-voice" in page and "ch-whatsapp" in page
    order = services.orders.get(esc.order_id)
    assert esc.order_id in page and order.status.replace("_", " ") in page
    assert order.address.pincode in page and order.address.city in page
    assert order.payment.method.upper() in page
    assert "refund promised last week" in page and "refund_status (42%)" in page
    if order.shipment and order.shipment.events:
        assert "Timeline" in page and order.shipment.events[-1].status.replace("_", " ") in page
    assert 'id="claim"' in page and 'id="handback"' in page
    assert "WhatsApp window open until" in page


def test_conversation_with_another_order_selected_and_escalation_redirect(as_asha, services, open_escalation):
    esc = open_escalation()
    ids = [o.order_id for o in services.orders.for_phone(PHONE)]
    assert len(ids) >= 2, "the demo customer has several orders"
    page = as_asha.get(f"/agent/conversations/{PHONE}?order={ids[1]}").get_data(as_text=True)
    assert f"<h3>{ids[1]} " in page
    resp = as_asha.get(f"/agent/escalations/{esc.id}")
    assert resp.status_code == 302 and resp.headers["Location"] == f"/agent/conversations/{PHONE}"


def test_customer_text_is_escaped(as_asha, services, open_escalation):
    open_escalation(inbound="<script>alert(1)</script><img src=x onerror=alert(2)>")
    page = as_asha.get(f"/agent/conversations/{PHONE}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_pages_are_built_for_phone_width_and_use_no_cdn(app, as_asha, open_escalation):
    open_escalation()
    pages = [as_asha.get(path).get_data(as_text=True) for path in ("/agent/", f"/agent/conversations/{PHONE}")]
    for page in pages + [app.test_client().get("/agent/login").get_data(as_text=True)]:
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
        assert "https://" not in page.split("<body")[0]  # stylesheets and scripts are local
    css = as_asha.get("/agent/static/console.css")
    assert css.status_code == 200 and b"@media" in css.data
    assert as_asha.get("/agent/static/console.js").status_code == 200


def test_the_order_panel_shows_an_ownership_lock_on_the_escalation(as_asha, services, open_escalation, demo):
    """Five wrong answers from strangers lock an order; the agent sees it, and until when."""
    stranger = "+919812345678"
    esc = open_escalation(stranger, "general", order_id="OL-100231", note="ownership check failed 3 times")
    page = as_asha.get(f"/agent/conversations/{stranger}").get_data(as_text=True)
    assert "Ownership locked" not in page
    for n in range(5):
        services.ownership.verify(esc.order_id, "0000", f"+9198000000{n:02d}")
    until = services.ownership.locked_until("OL-100231").astimezone(services.clock.tz)
    page = as_asha.get(f"/agent/conversations/{stranger}").get_data(as_text=True)
    assert f"Ownership locked until {until.strftime('%d %b %H:%M')} for OL-100231" in page
