"""Attacks on the store order webhooks: nothing unsigned, forged, replayed with another body,
oversized or malformed is stored, and a store without a secret has no endpoint at all.

Deliveries are signed exactly as Shopify and WooCommerce sign them (tests/support/stores.py);
"stored" is read from the inbox, and "applied" from the orders after the worker ran.
"""
import dataclasses
import json

import pytest
from sqlalchemy import func, select

from orderline.models import Order
from tests.support.jobs import run_jobs
from tests.support.stores import (
    SHOPIFY_SECRET, WOO_SECRET, body_of, post_shopify, post_woo, shopify_headers, shopify_order, signature,
    woo_headers, woo_order,
)


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, shopify_webhook_secret=SHOPIFY_SECRET, woocommerce_webhook_secret=WOO_SECRET)


def order_count(services) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(Order))


def nothing_stored(services) -> None:
    assert services.inbox.pending() == 0
    run_jobs(services)
    assert order_count(services) == 0


@pytest.mark.parametrize("path,headers_for", [("/webhooks/shopify", shopify_headers), ("/webhooks/woocommerce", woo_headers)])
@pytest.mark.parametrize("attack", ["unsigned", "empty", "other_secret", "garbage", "hex_not_base64"])
def test_unsigned_or_forged_deliveries_are_refused(client, services, path, headers_for, attack):
    body = body_of(shopify_order() if "shopify" in path else woo_order())
    headers = headers_for(body)
    name = next(k for k in headers if k.lower().endswith(("hmac-sha256", "signature")))
    if attack == "unsigned":
        del headers[name]
    elif attack == "empty":
        headers[name] = ""
    elif attack == "other_secret":
        headers[name] = signature("guessed-secret", body)
    elif attack == "garbage":
        headers[name] = "A" * 44
    else:
        import hashlib
        import hmac
        secret = SHOPIFY_SECRET if "shopify" in path else WOO_SECRET
        headers[name] = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    resp = client.post(path, data=body, headers=headers)
    assert resp.status_code == 401, resp.json
    nothing_stored(services)


def test_a_signature_replayed_with_another_body_is_refused(client, services):
    original = body_of(shopify_order())
    headers = shopify_headers(original)
    tampered = body_of(shopify_order(total_price="1.00"))
    assert client.post("/webhooks/shopify", data=tampered, headers=headers).status_code == 401
    # Even a byte of whitespace is another body.
    assert client.post("/webhooks/shopify", data=original + b" ", headers=headers).status_code == 401
    nothing_stored(services)


def test_a_replayed_old_update_changes_nothing(client, services):
    """An old signed body replayed later, under a fresh delivery id (the id is not signed): the
    order keeps the newer state."""
    auth = {"Authorization": f"Bearer {services.settings.api_token}"}
    services.redis.flushdb()
    old = body_of(shopify_order())
    assert post_shopify(client, old).status_code == 200
    newer = shopify_order(updated_at="2026-11-28T12:00:00+05:30", cancelled_at="2026-11-28T12:00:00+05:30")
    assert post_shopify(client, newer, topic="orders/cancelled").status_code == 200
    run_jobs(services)
    assert post_shopify(client, old, topic="orders/updated").status_code == 200  # a new webhook id
    run_jobs(services)
    order = client.get("/api/v1/orders/resolve", query_string={"ref": "#2041"}, headers=auth).json
    assert order["status"] == "cancelled"


def test_oversized_bodies_are_refused_before_anything_is_stored(client, services):
    huge = shopify_order(note="x" * (1024 * 1024 + 1))
    resp = post_shopify(client, huge)
    assert resp.status_code == 413
    nothing_stored(services)


@pytest.mark.parametrize("body,field", [
    (b"not json", None), (b"\xff\xfe", None), (b"[]", "body"),
    (json.dumps({"name": "#1", "created_at": "2026-11-28T10:30:00+05:30"}).encode(), "amount"),
    (body_of(shopify_order(order_number=None, name="")), "order_number"),
    (body_of(shopify_order(created_at="yesterday")), "placed_at"),
    (body_of(shopify_order(total_price="lots")), "amount"),
    (body_of(shopify_order(line_items="bottle")), "line_items"),
])
def test_signed_but_malformed_orders_get_400_and_are_never_half_applied(client, services, body, field):
    resp = client.post("/webhooks/shopify", data=body, headers=shopify_headers(body))
    assert resp.status_code == 400, resp.json
    if field:
        assert field in resp.json["fields"], resp.json
    nothing_stored(services)


def test_woocommerce_ping_shape_only(client, services):
    """The unsigned ping is answered only in its exact shape, and stores nothing; anything else
    unsigned is refused."""
    for body in (b"webhook_id=12&x=1", b"webhook_id=", body_of(woo_order())):
        resp = client.post("/webhooks/woocommerce", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert resp.status_code == 401, body
    body = b"webhook_id=12"
    headers = woo_headers(body_of(woo_order()))  # a signed-looking delivery is never taken for a ping
    assert client.post("/webhooks/woocommerce", data=body, headers=headers).status_code == 401
    nothing_stored(services)


@pytest.fixture
def unset(settings):
    return dataclasses.replace(settings, shopify_webhook_secret="", woocommerce_webhook_secret="")


def test_without_a_secret_there_is_no_endpoint(unset, clock):
    """Production may connect no store: each endpoint is 404 and says why; a delivery signed
    under the empty key is refused all the same."""
    from wiring import Services, create_app

    services = Services.build(dataclasses.replace(unset, orderline_env="development"), clock)
    try:
        client = create_app(services.settings, services).test_client()
        body = body_of(shopify_order())
        resp = client.post("/webhooks/shopify", data=body, headers=shopify_headers(body, secret=""))
        assert resp.status_code == 404 and "SHOPIFY_WEBHOOK_SECRET" in resp.json["message"]
        resp = post_woo(client, woo_order(), secret="")
        assert resp.status_code == 404 and "WOOCOMMERCE_WEBHOOK_SECRET" in resp.json["message"]
        ping = client.post("/webhooks/woocommerce", data="webhook_id=1")
        assert ping.status_code == 404
        assert services.inbox.pending() == 0
    finally:
        services.engine.dispose()
