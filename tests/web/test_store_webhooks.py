"""Store order webhooks: a signed Shopify or WooCommerce order becomes our order, once, and stage 1 starts.

The order changes when the worker drains the inbox; these tests run that worker in-process
(RQ's SimpleWorker in burst mode on the real Redis), the same job code the Procfile runs.
The attacks (forged, unsigned, replayed, oversized) are in tests/security/test_store_webhooks.py.
"""
import dataclasses

import pytest
from sqlalchemy import func, select

from orderline.models import AuditLog, Message, Notification, Order
from orderline.notifications import render
from tests.support.jobs import run_jobs
from tests.support.stores import (
    SHOPIFY_SECRET, STORE_PHONE, WOO_SECRET, body_of, post_shopify, post_woo, shopify_order, woo_order,
)


CONFIRMED_TEMPLATE = "HX" + "c" * 32


@pytest.fixture
def settings(settings):
    # A new buyer has never written to us: WhatsApp's window is closed, so stage 1 needs its template.
    return dataclasses.replace(settings, shopify_webhook_secret=SHOPIFY_SECRET, woocommerce_webhook_secret=WOO_SECRET,
                               templates=(("confirmed", CONFIRMED_TEMPLATE),))


@pytest.fixture
def worker(services):
    services.redis.flushdb()
    return lambda: run_jobs(services)


def accepted(resp) -> int:
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "accepted", resp.json
    return resp.json["id"]


def resolve(client, auth, ref):
    return client.get("/api/v1/orders/resolve", query_string={"ref": ref}, headers=auth)


def notifications(services, order_id):
    with services.sessions() as session:
        return session.scalars(select(Notification).join(Order).where(Order.order_id == order_id)).all()


def test_shopify_order_create_becomes_our_order_and_starts_stage_one(client, services, worker, auth, clock):
    inbox_id = accepted(post_shopify(client, shopify_order()))
    worker()
    assert services.inbox.outcome(inbox_id) == {"outcome": "created", "order_id": "SH-2041", "error": None}
    for ref in ("#2041", "2041", "SH-2041", " #2041 "):
        resp = resolve(client, auth, ref)
        assert resp.status_code == 200, (ref, resp.json)
        assert resp.json["order_id"] == "SH-2041"
    order = resolve(client, auth, "#2041").json
    assert order["store_ref"] == "#2041" and order["needs_agent"] is None
    assert order["customer"] == {"name": "Meera Nair", "phone": STORE_PHONE, "email": "meera@example.com",
                                 "language": "en"}
    assert order["payment"]["method"] == "cod" and order["payment"]["status"] == "pending"
    assert order["amount"] == 1298.0 and order["currency"] == "INR" and order["status"] == "placed"
    assert order["items"][0] == {"sku": "BOTTLE-1L", "name": "Steel Water Bottle - 1L", "qty": 2, "unit_price": 449.0}
    assert order["shipping_address"]["pincode"] == "560001" and order["shipping_address"]["city"] == "Bengaluru"
    [note] = notifications(services, "SH-2041")
    assert note.event == "confirmed"
    # Sent by the notifier under the usual rules (outside the window: the template); no Twilio
    # account here, so it goes to the local outbox.
    assert note.status == "sent", (note.status, note.reason)
    with services.sessions() as session:
        assert session.get(Message, note.message_id).template_sid == CONFIRMED_TEMPLATE
        text = render("confirmed", session.get(Order, note.order_pk), clock).text
    assert "#2041" in text and "Reply YES to confirm, NO to cancel" in text


def test_the_same_webhook_twice_makes_one_order(client, services, worker, auth):
    body = body_of(shopify_order())
    first = accepted(post_shopify(client, body, webhook_id="wh-1"))
    again = post_shopify(client, body, webhook_id="wh-1")
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    # Shopify's own retry comes with the same id; a copy under a new id is applied and changes nothing.
    copy = accepted(post_shopify(client, body, webhook_id="wh-2"))
    worker()
    assert services.inbox.outcome(first)["outcome"] == "created"
    assert services.inbox.outcome(copy)["outcome"] == "duplicate"
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Order).where(Order.store_ref == "#2041")) == 1
    assert len(notifications(services, "SH-2041")) == 1


def test_orders_updated_changes_what_the_store_owns_and_keeps_ours(client, services, worker, auth):
    accepted(post_shopify(client, shopify_order()))
    worker()
    moved = {"line1": "9 Brigade Road", "line2": "", "landmark": "", "city": "Bengaluru", "state": "Karnataka",
             "pincode": "560025"}
    assert client.post("/api/v1/orders/SH-2041/address", json=moved, headers=auth).status_code == 200
    edited = shopify_order(updated_at="2026-11-28T11:00:00+05:30", total_price="449.00", financial_status="paid",
                           line_items=[shopify_order()["line_items"][0] | {"quantity": 1}])
    inbox_id = accepted(post_shopify(client, edited, topic="orders/updated"))
    worker()
    assert services.inbox.outcome(inbox_id)["outcome"] == "updated"
    order = resolve(client, auth, "#2041").json
    assert order["amount"] == 449.0 and order["items"][0]["qty"] == 1 and order["payment"]["status"] == "paid"
    assert order["shipping_address"]["line1"] == "9 Brigade Road"  # the customer's change stays
    assert order["status"] == "placed"
    assert len(notifications(services, "SH-2041")) == 1  # an update is no new order


def test_orders_cancelled_cancels_the_order(client, services, worker, auth):
    accepted(post_shopify(client, shopify_order()))
    worker()
    cancelled = shopify_order(updated_at="2026-11-28T12:00:00+05:30", cancelled_at="2026-11-28T12:00:00+05:30",
                              cancel_reason="customer")
    inbox_id = accepted(post_shopify(client, cancelled, topic="orders/cancelled"))
    worker()
    assert services.inbox.outcome(inbox_id)["outcome"] == "cancelled"
    assert resolve(client, auth, "#2041").json["status"] == "cancelled"
    with services.sessions() as session:
        actions = session.scalars(select(AuditLog.action).where(AuditLog.entity_id == "SH-2041")).all()
    assert actions == ["imported", "reimported"]


def test_an_order_without_a_usable_phone_is_kept_and_flagged(client, services, worker, auth):
    order = shopify_order(customer={"first_name": "Kabir", "last_name": "S", "phone": "12"},
                          shipping_address=shopify_order()["shipping_address"] | {"phone": "call me"})
    inbox_id = accepted(post_shopify(client, order))
    worker()
    assert services.inbox.outcome(inbox_id)["outcome"] == "created"
    stored = resolve(client, auth, "#2041").json
    assert stored["needs_agent"] == "no usable phone" and stored["customer"]["phone"] is None
    assert notifications(services, "SH-2041") == []  # nobody to message
    assert [o.order_id for o in services.orders.flagged()] == ["SH-2041"]


def test_a_store_number_taken_by_another_order_is_refused_not_merged(client, services, worker, auth):
    from orderline.importer import import_orders
    from tests.support.values import GOOD_ROW

    import_orders(services.sessions, [GOOD_ROW | {"order_id": "OL-2041", "shipment": None}])
    inbox_id = accepted(post_shopify(client, shopify_order()))
    worker()
    outcome = services.inbox.outcome(inbox_id)
    assert outcome["outcome"] == "conflict" and "OL-2041" in outcome["error"]
    assert resolve(client, auth, "2041").json["customer"]["name"] == GOOD_ROW["customer"]["name"]


def test_woocommerce_signed_create(client, services, worker, auth):
    inbox_id = accepted(post_woo(client, woo_order()))
    worker()
    assert services.inbox.outcome(inbox_id)["outcome"] == "created"
    order = resolve(client, auth, "#727").json
    assert order["order_id"] == "WC-727" and order["store_ref"] == "#727"
    assert order["customer"]["phone"] == "+919830012345" and order["customer"]["name"] == "Arjun Rao"
    assert order["payment"] == {"method": "cod", "status": "pending", "reference": None, "refund": None}
    assert order["placed_at"].startswith("2026-11-28T10:40:00")  # 05:10 GMT, shown in IST
    assert order["shipping_address"]["line2"] == "2nd floor" and order["amount"] == 749.0
    assert [n.event for n in notifications(services, "WC-727")] == ["confirmed"]
    cancelled = woo_order(status="cancelled", date_modified_gmt="2026-11-28T06:00:00")
    accepted(post_woo(client, cancelled, topic="order.updated"))
    worker()
    assert resolve(client, auth, "WC-727").json["status"] == "cancelled"


def test_woocommerce_ping_is_answered_and_applies_nothing(client, services):
    resp = client.post("/webhooks/woocommerce", data="webhook_id=12",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 200 and resp.json == {"status": "pong"}
    assert services.inbox.pending() == 0


def test_resolve_by_awb_and_unknown_refs(client, services, auth, demo):
    from tests.support.values import demo_id

    oid = demo_id(demo, "in_transit")
    awb = demo[oid]["shipment"]["awb"]
    assert resolve(client, auth, awb).json["order_id"] == oid
    assert resolve(client, auth, oid).json["order_id"] == oid
    assert resolve(client, auth, "#99999999").status_code == 404
    assert resolve(client, auth, "").status_code == 400
    assert client.get("/api/v1/orders/resolve", query_string={"ref": oid}).status_code == 401


def test_the_buyer_answers_the_cod_request_about_the_store_number(client, services, worker, auth):
    accepted(post_shopify(client, shopify_order()))
    worker()
    yes = services.replies.handle(STORE_PHONE, "YES")
    assert yes.answer == "Thank you! Your Cash on Delivery order #2041 is confirmed."
    no = services.replies.handle(STORE_PHONE, "no")  # answered already: goes to the assistant instead
    assert no.answer is None and no.metadata["order_id"] == "SH-2041"
