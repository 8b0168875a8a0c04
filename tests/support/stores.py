"""Store webhook deliveries as Shopify and WooCommerce really send them: the order JSON (field names
from their REST order resources), the headers, and the signature (base64 HMAC-SHA256 of the raw
body under the shared secret)."""
from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import uuid
from typing import Any, Optional

SHOPIFY_SECRET = "shpss_" + uuid.uuid4().hex
WOO_SECRET = "wc-secret-" + uuid.uuid4().hex[:12]
STORE_PHONE = "+919000007041"  # no demo customer has it

SHOPIFY_ORDER: dict[str, Any] = {
    "id": 5940139491234, "admin_graphql_api_id": "gid://shopify/Order/5940139491234",
    "name": "#2041", "order_number": 2041, "number": 1041,
    "email": "meera@example.com", "phone": None,
    "created_at": "2026-11-28T10:30:00+05:30", "updated_at": "2026-11-28T10:30:05+05:30",
    "cancelled_at": None, "cancel_reason": None, "closed_at": None,
    "currency": "INR", "total_price": "1298.00", "subtotal_price": "1298.00", "total_tax": "0.00",
    "financial_status": "pending", "fulfillment_status": None,
    "gateway": "Cash on Delivery (COD)", "payment_gateway_names": ["Cash on Delivery (COD)"],
    "customer": {"id": 7123456789, "email": "meera@example.com", "first_name": "Meera", "last_name": "Nair",
                 "phone": STORE_PHONE},
    "billing_address": {"first_name": "Meera", "last_name": "Nair", "name": "Meera Nair", "address1": "4 Church Street",
                        "address2": "", "city": "Bengaluru", "province": "Karnataka", "zip": "560001",
                        "country": "India", "country_code": "IN", "phone": None},
    "shipping_address": {"first_name": "Meera", "last_name": "Nair", "name": "Meera Nair",
                         "address1": "4 Church Street", "address2": "Flat 2", "city": "Bengaluru",
                         "province": "Karnataka", "province_code": "KA", "zip": "560 001", "country": "India",
                         "country_code": "IN", "phone": None},
    "line_items": [{"id": 1, "variant_id": 11, "title": "Steel Water Bottle", "name": "Steel Water Bottle - 1L",
                    "sku": "BOTTLE-1L", "quantity": 2, "price": "449.00", "variant_title": "1L"},
                   {"id": 2, "variant_id": 12, "title": "Cotton Tote", "name": "Cotton Tote", "sku": "TOTE",
                    "quantity": 1, "price": "400.00", "variant_title": None}],
}

WOO_ORDER: dict[str, Any] = {
    "id": 727, "parent_id": 0, "number": "727", "order_key": "wc_order_58d2d042d1d", "created_via": "checkout",
    "status": "processing", "currency": "INR",
    "date_created": "2026-11-28T10:40:00", "date_created_gmt": "2026-11-28T05:10:00",
    "date_modified": "2026-11-28T10:40:05", "date_modified_gmt": "2026-11-28T05:10:05",
    "total": "749.00", "total_tax": "0.00", "customer_id": 0,
    "billing": {"first_name": "Arjun", "last_name": "Rao", "address_1": "22 Lake Road", "address_2": "",
                "city": "Kolkata", "state": "WB", "postcode": "700029", "country": "IN",
                "email": "arjun@example.com", "phone": "098300 12345"},
    "shipping": {"first_name": "Arjun", "last_name": "Rao", "address_1": "22 Lake Road", "address_2": "2nd floor",
                 "city": "Kolkata", "state": "WB", "postcode": "700029", "country": "IN", "phone": ""},
    "payment_method": "cod", "payment_method_title": "Cash on delivery", "transaction_id": "",
    "date_paid": None, "date_paid_gmt": None,
    "line_items": [{"id": 315, "name": "Handloom Saree", "product_id": 93, "variation_id": 0, "quantity": 1,
                    "subtotal": "749.00", "total": "749.00", "sku": "SAREE-HL", "price": 749}],
}


def shopify_order(**changes: Any) -> dict[str, Any]:
    order = copy.deepcopy(SHOPIFY_ORDER)
    order.update(changes)
    return order


def woo_order(**changes: Any) -> dict[str, Any]:
    order = copy.deepcopy(WOO_ORDER)
    order.update(changes)
    return order


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def body_of(order: Any) -> bytes:
    return order if isinstance(order, bytes) else json.dumps(order).encode()


def shopify_headers(body: bytes, topic: str = "orders/create", secret: str = SHOPIFY_SECRET,
                    webhook_id: Optional[str] = None) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": signature(secret, body), "X-Shopify-Shop-Domain": "orderline-test.myshopify.com",
            "X-Shopify-API-Version": "2026-07", "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
            "X-Shopify-Triggered-At": "2026-11-28T05:00:05.000Z"}


def woo_headers(body: bytes, topic: str = "order.created", secret: str = WOO_SECRET,
                delivery: Optional[str] = None) -> dict[str, str]:
    resource, event = topic.split(".")
    return {"Content-Type": "application/json", "X-WC-Webhook-Source": "https://shop.example.test/",
            "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": resource, "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": signature(secret, body), "X-WC-Webhook-ID": "12",
            "X-WC-Webhook-Delivery-ID": delivery or uuid.uuid4().hex}


def post_shopify(client: Any, order: Any, **kwargs: Any) -> Any:
    """POST a delivery with a Flask test client."""
    body = body_of(order)
    return client.post("/webhooks/shopify", data=body, headers=shopify_headers(body, **kwargs))


def post_woo(client: Any, order: Any, **kwargs: Any) -> Any:
    body = body_of(order)
    return client.post("/webhooks/woocommerce", data=body, headers=woo_headers(body, **kwargs))
