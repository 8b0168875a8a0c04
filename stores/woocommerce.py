"""WooCommerce's order webhooks (order.created, order.updated) read into a `StoreOrder`.

Field names are WooCommerce's REST order (v3): `number` (what the customer sees, "#2041" in
the store's e-mails), `status`, `billing` / `shipping` (with `phone`), `payment_method` ("cod"),
`line_items`, `total`, and the `_gmt` times (UTC written without an offset).
"""
from __future__ import annotations

import re
from typing import Any

from orderline.errors import InvalidInput
from orderline.store_orders import StoreOrder
from stores.common import digits_of, first_phone, full_name, line_items, obj, store_order, text, when

SOURCE = "woocommerce"
TOPICS = ("order.created", "order.updated")
PREFIX = "WC-"
# WooCommerce's order status onto our payment status (COD stays pending until delivery).
PAID = {"processing", "completed"}
PAYMENT = {"refunded": "refunded", "failed": "failed"}


def parse(payload: Any) -> StoreOrder:
    """Validate a decoded WooCommerce order payload, or raise InvalidInput naming what is wrong."""
    if not isinstance(payload, dict):
        raise InvalidInput({"body": "expected a JSON object"})
    number = digits_of(payload.get("number")) or digits_of(payload.get("id"))
    if not number:
        raise InvalidInput({"number": "required"})
    billing, ship = obj(payload.get("billing")), obj(payload.get("shipping"))
    where = ship if text(ship.get("address_1")) else billing
    status = text(payload.get("status"), 30)
    cod = text(payload.get("payment_method"), 40) == "cod"
    paid = PAYMENT.get(status) or ("paid" if status in PAID and not cod and payload.get("date_paid_gmt") else "pending")
    row = {
        "order_id": PREFIX + number,
        "placed_at": when(payload.get("date_created_gmt"), "date_created_gmt", naive_is_utc=True).isoformat(),
        "customer": {"name": full_name(where.get("first_name"), where.get("last_name"))
                     or full_name(billing.get("first_name"), billing.get("last_name")),
                     "phone": first_phone([billing.get("phone"), ship.get("phone")]),
                     "email": text(billing.get("email"), 254) or None},
        "items": line_items(payload.get("line_items"), "name", "price"),
        "amount": payload.get("total"),
        "currency": text(payload.get("currency"), 3) or "INR",
        "payment": {"method": "cod" if cod else "prepaid", "status": paid,
                    "reference": text(payload.get("transaction_id"), 100) or None},
        "shipping_address": {"line1": text(where.get("address_1")), "line2": text(where.get("address_2")),
                             "city": text(where.get("city"), 100), "state": text(where.get("state"), 100),
                             "pincode": re.sub(r"\s", "", text(where.get("postcode"), 20))},
        "status": "confirmed" if paid == "paid" else "placed",
    }
    updated = when(payload.get("date_modified_gmt") or payload.get("date_created_gmt"), "date_modified_gmt",
                   naive_is_utc=True)
    ref = text(payload.get("number"), 39) or number
    return store_order(SOURCE, row, f"#{ref}", updated, status == "cancelled")
