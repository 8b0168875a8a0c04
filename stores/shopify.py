"""Shopify's order webhooks (orders/create, orders/updated, orders/cancelled) read into a `StoreOrder`.

Every topic carries the whole order, so one parser reads them all; a cancelled order has
`cancelled_at`. Field names are Shopify's REST Order resource: `name` ("#2041", what the
customer sees), `order_number` (2041), `phone`, `customer.phone`, `shipping_address.phone`,
`payment_gateway_names` / `gateway`, `financial_status`, `line_items`, `total_price`.
"""
from __future__ import annotations

import re
from typing import Any

from orderline.errors import InvalidInput
from orderline.store_orders import StoreOrder
from stores.common import digits_of, first_phone, full_name, line_items, obj, store_order, text, when

SOURCE = "shopify"
TOPICS = ("orders/create", "orders/updated", "orders/cancelled")
PREFIX = "SH-"  # our order id is SH-<order_number>: its digits are the number the customer knows
# Shopify's financial_status onto our payment statuses.
FINANCIAL = {"paid": "paid", "refunded": "refunded", "partially_refunded": "partially_refunded", "voided": "failed"}


def is_cod(gateways: list[str]) -> bool:
    """Shopify's manual payment method for COD is named "Cash on Delivery (COD)" by default."""
    for name in gateways:
        low = name.lower()
        if "cash on delivery" in low or "cod" in re.findall(r"[a-z]+", low):
            return True
    return False


def parse(payload: Any) -> StoreOrder:
    """Validate a decoded Shopify order payload, or raise InvalidInput naming what is wrong."""
    if not isinstance(payload, dict):
        raise InvalidInput({"body": "expected a JSON object"})
    name = text(payload.get("name"), 40)
    number = digits_of(payload.get("order_number")) or digits_of(name)
    if not number:
        raise InvalidInput({"order_number": "required"})
    customer, ship = obj(payload.get("customer")), obj(payload.get("shipping_address"))
    billing = obj(payload.get("billing_address"))
    gateways = [text(g, 100) for g in payload.get("payment_gateway_names") or [] if isinstance(g, str)]
    gateways += [text(payload.get("gateway"), 100)] if payload.get("gateway") else []
    cod = is_cod(gateways)
    paid = FINANCIAL.get(text(payload.get("financial_status"), 30), "pending")
    row = {
        "order_id": PREFIX + number,
        "placed_at": payload.get("created_at"),
        "customer": {"name": ship.get("name") and text(ship.get("name"))
                     or full_name(customer.get("first_name"), customer.get("last_name")) or text(billing.get("name")),
                     "phone": first_phone([payload.get("phone"), customer.get("phone"), ship.get("phone")]),
                     "email": text(payload.get("email") or customer.get("email"), 254) or None},
        "items": line_items(payload.get("line_items"), "name", "price"),
        "amount": payload.get("total_price"),
        "currency": text(payload.get("currency"), 3) or "INR",
        "payment": {"method": "cod" if cod else "prepaid", "status": paid,
                    "reference": text(payload.get("id"), 100) or None},
        "shipping_address": {"line1": text(ship.get("address1")), "line2": text(ship.get("address2")),
                             "city": text(ship.get("city"), 100), "state": text(ship.get("province"), 100),
                             "pincode": re.sub(r"\s", "", text(ship.get("zip"), 20))},
        "status": "confirmed" if paid == "paid" and not cod else "placed",
    }
    updated = when(payload.get("updated_at") or payload.get("created_at"), "updated_at")
    return store_order(SOURCE, row, name or f"#{number}", updated, bool(payload.get("cancelled_at")))
