"""A store's order, end to end: Shopify's signed orders/create reaches the running app, the worker
applies it, and the buyer asks about it on WhatsApp by the number the store gave them ("#2041"),
through the real Rasa with the trained model and the action server (live_stack)."""
from __future__ import annotations

import requests
from sqlalchemy import func, select

from orderline.models import Order
from tests.bot.test_live import turn
from tests.support.jobs import run_jobs
from tests.support.stores import STORE_PHONE, body_of, shopify_headers, shopify_order


def deliver(stack, order, webhook_id: str) -> requests.Response:
    body = body_of(order)
    return requests.post(stack.app_url + "/webhooks/shopify", data=body, timeout=30,
                         headers=shopify_headers(body, webhook_id=webhook_id))


def test_a_shopify_order_is_answered_by_its_store_number(live_stack):
    stack = live_stack
    order = shopify_order()
    first = deliver(stack, order, "live-wh-2041")
    assert first.status_code == 200 and first.json()["status"] == "accepted", first.text
    again = deliver(stack, order, "live-wh-2041")
    assert again.status_code == 200 and again.json()["status"] == "duplicate", again.text
    run_jobs(stack.services)
    with stack.services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Order).where(Order.store_ref == "#2041")) == 1

    reply = turn(stack, STORE_PHONE, "where is #2041")
    assert "#2041" in reply, reply
    assert "placed" in reply.lower(), reply
    assert "SH-2041" not in reply, reply  # the customer hears the store's number, not ours

    stranger = turn(stack, "+919000000098", "where is #2041")
    for secret in ("meera", "bottle", "church street", "560001", "1,298"):
        assert secret not in stranger.lower(), (secret, stranger)
