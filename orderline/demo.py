"""Demo orders for `make seed`: realistic Indian D2C orders, dated relative to now.

Every phone is +91 90000 000xx: a deliberately fake-looking range, never a real customer.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")

CUSTOMERS = [
    ("Asha Verma", "en"), ("Rohit Sharma", "hi"), ("Priya Nair", "en"), ("Imran Khan", "hi"),
    ("Sneha Patil", "en"), ("Vikram Singh", "hi"), ("Meera Iyer", "en"), ("Arjun Reddy", "en"),
    ("Kavya Joshi", "hi"), ("Farhan Ali", "en"), ("Neha Gupta", "hi"), ("Rahul Mehta", "en"),
    ("Ananya Das", "en"), ("Suresh Yadav", "hi"), ("Pooja Kulkarni", "en"), ("Deepak Chauhan", "hi"),
    ("Ritu Agarwal", "en"), ("Karan Malhotra", "en"), ("Lakshmi Menon", "en"), ("Sanjay Mishra", "hi"),
]
PLACES = [
    ("14 MG Road", "Flat 3B, Sai Residency", "Near Regal Square", "Indore", "Madhya Pradesh", "452001"),
    ("221 Linking Road", "2nd floor", "Opp. National College", "Mumbai", "Maharashtra", "400050"),
    ("7 Park Street", "", "Near Metro Gate 2", "Kolkata", "West Bengal", "700016"),
    ("B-42 Sector 18", "Tower C", "Behind Atta Market", "Noida", "Uttar Pradesh", "201301"),
    ("88 Anna Salai", "", "Next to LIC Building", "Chennai", "Tamil Nadu", "600002"),
    ("12 Residency Road", "Apt 504", "Near Brigade Road signal", "Bengaluru", "Karnataka", "560025"),
    ("5 Civil Lines", "", "Opp. Government School", "Jaipur", "Rajasthan", "302006"),
    ("31 FC Road", "Shop lane", "Near Goodluck Cafe", "Pune", "Maharashtra", "411004"),
    ("9 Banjara Hills Rd 12", "Villa 3", "Near KBR Park", "Hyderabad", "Telangana", "500034"),
    ("67 Hazratganj", "", "Behind Sahu Cinema", "Lucknow", "Uttar Pradesh", "226001"),
]
PRODUCTS = [
    ("TSHIRT-M", "Cotton T-shirt (M)", 499.0), ("KURTA-L", "Block-print kurta (L)", 1299.0),
    ("SAREE-01", "Handloom cotton saree", 2499.0), ("MUG-02", "Ceramic coffee mug, set of 2", 649.0),
    ("FACEWASH", "Neem face wash 100 ml", 249.0), ("EARBUDS", "Wireless earbuds", 1799.0),
    ("BEDSHEET", "Double bedsheet with 2 pillow covers", 899.0), ("BOTTLE-1L", "Steel water bottle 1 L", 399.0),
    ("TEA-250", "Assam tea 250 g", 299.0), ("BAG-TOTE", "Jute tote bag", 349.0),
]
COURIERS = [("Delhivery", "https://www.delhivery.com/track/package/{awb}"),
            ("Blue Dart", "https://www.bluedart.com/tracking/{awb}"),
            ("Ekart", "https://ekartlogistics.com/shipmenttrack/{awb}"),
            ("Xpressbees", "https://www.xpressbees.com/shipment/tracking?awb={awb}")]

# (customer index, status, payment method, payment status, days since placed, extras)
SCENARIOS: list[tuple[int, str, str, str, int, dict[str, Any]]] = [
    (0, "in_transit", "prepaid", "paid", 6, {"delayed": True}),
    (0, "delivered", "prepaid", "paid", 9, {"delivered_days_ago": 3}),
    (0, "placed", "cod", "pending", 0, {}),
    (1, "delivery_failed", "cod", "pending", 5, {"ndr": "Customer not available at address"}),
    (2, "out_for_delivery", "cod", "pending", 4, {}),
    (3, "rto_initiated", "cod", "pending", 10, {"ndr": "Address incomplete, customer unreachable", "attempts": 2}),
    (4, "cancelled", "prepaid", "paid", 3, {"refund": ("initiated", 4)}),
    (5, "rto_delivered", "prepaid", "paid", 20, {"refund": ("processed", -2)}),
    (6, "placed", "prepaid", "failed", 0, {}),
    (7, "confirmed", "cod", "pending", 1, {}),
    (7, "packed", "prepaid", "paid", 2, {}),
    (8, "shipped", "prepaid", "paid", 2, {}),
    (9, "delivered", "cod", "paid", 25, {"delivered_days_ago": 18}),
    (10, "in_transit", "cod", "pending", 3, {}),
    (11, "delivered", "prepaid", "partially_refunded", 15, {"delivered_days_ago": 10, "refund": ("processed", -5)}),
    (12, "out_for_delivery", "prepaid", "paid", 4, {}),
    (13, "delivery_failed", "prepaid", "paid", 6, {"ndr": "Consignee refused to accept: asked for reattempt"}),
    (14, "in_transit", "prepaid", "paid", 8, {"delayed": True, "stale_scan": True}),
    (15, "confirmed", "prepaid", "paid", 1, {}),
    (16, "delivered", "prepaid", "refunded", 12, {"delivered_days_ago": 6, "refund": ("processed", -1)}),
    (17, "packed", "cod", "pending", 1, {}),
    (18, "shipped", "cod", "pending", 1, {}),
    (19, "placed", "cod", "pending", 0, {}),
]
FILLER_STATUSES = ["delivered", "in_transit", "shipped", "delivered", "confirmed", "out_for_delivery",
                   "delivered", "packed", "in_transit", "delivered", "placed", "delivered", "cancelled",
                   "in_transit", "delivered", "shipped", "delivered"]
TIMELINE = ["packed", "shipped", "in_transit", "out_for_delivery"]


def demo_phone(index: int) -> str:
    return f"+9190000000{index + 1:02d}"


def demo_orders(now: datetime, count_filler: int = len(FILLER_STATUSES)) -> list[dict[str, Any]]:
    """About 40 orders covering every status, COD and prepaid, delay, NDR, RTO and refunds."""
    rng = random.Random(20261127)
    now = now.astimezone(IST)
    rows = [_order(i, c, st, m, ps, d, ex, now, rng) for i, (c, st, m, ps, d, ex) in enumerate(SCENARIOS)]
    for j, status in enumerate(FILLER_STATUSES[:count_filler]):
        cust = (j * 7 + 3) % len(CUSTOMERS)
        method = "cod" if j % 3 == 0 else "prepaid"
        pay_status = "pending" if method == "cod" and status != "delivered" else "paid"
        extras: dict[str, Any] = {"delivered_days_ago": 5 + j % 20} if status == "delivered" else {}
        if status == "cancelled" and method == "prepaid":
            extras["refund"] = ("processed", -3)
        rows.append(_order(len(SCENARIOS) + j, cust, status, method, pay_status, 2 + j % 25, extras, now, rng))
    return rows


def _order(i: int, cust: int, status: str, method: str, pay_status: str, days: int,
           extras: dict[str, Any], now: datetime, rng: random.Random) -> dict[str, Any]:
    name, lang = CUSTOMERS[cust]
    placed = (now - timedelta(days=days, hours=rng.randint(1, 9))).replace(microsecond=0)
    items = [{"sku": sku, "name": pname, "qty": rng.randint(1, 2), "unit_price": price}
             for sku, pname, price in rng.sample(PRODUCTS, rng.randint(1, 2))]
    amount = round(sum(it["qty"] * it["unit_price"] for it in items), 2)
    line1, line2, landmark, city, state, pin = PLACES[(cust + i) % len(PLACES)] if i >= len(SCENARIOS) else PLACES[cust % len(PLACES)]
    order_id = f"OL-{100201 + i * 10 if i < len(SCENARIOS) else 100500 + i}"
    payment: dict[str, Any] = {"method": method, "status": pay_status, "reference": f"pay_demo_{i:03d}"}
    if "refund" in extras:
        r_status, r_days = extras["refund"]
        payment["refund"] = {"amount": amount, "status": r_status, "reference": f"rfnd_demo_{i:03d}",
                             "expected_by": (now + timedelta(days=r_days)).date().isoformat()}
    row: dict[str, Any] = {
        "order_id": order_id, "placed_at": placed.isoformat(),
        "customer": {"name": name, "phone": demo_phone(cust),
                     "email": name.lower().replace(" ", ".") + "@example.com", "language": lang},
        "items": items, "amount": amount, "currency": "INR", "payment": payment,
        "shipping_address": {"line1": line1, "line2": line2, "landmark": landmark, "city": city,
                             "state": state, "pincode": pin},
        "status": status,
    }
    if status in ("placed", "confirmed") or (status == "cancelled" and days < 5):
        return row
    courier, url = COURIERS[i % len(COURIERS)]
    awb = f"{7700000000 + i * 7919}"
    promised = (placed + timedelta(days=5)).date()
    expected = promised + timedelta(days=3) if extras.get("delayed") else promised
    events = _timeline(status, placed, now, city, extras)
    shipment: dict[str, Any] = {
        "courier": courier, "awb": awb, "tracking_url": url.format(awb=awb),
        "promised_date": promised.isoformat(), "expected_date": expected.isoformat(),
        "attempts": extras.get("attempts", 1 if status == "delivery_failed" else 0),
        "ndr_reason": extras.get("ndr"), "events": events,
    }
    if status == "delivered":
        shipment["delivered_at"] = (now - timedelta(days=extras.get("delivered_days_ago", 2), hours=3)).replace(microsecond=0).isoformat()
        events.append({"at": shipment["delivered_at"], "status": "delivered", "location": city, "note": "Delivered to customer"})
    row["shipment"] = shipment
    return row


def _timeline(status: str, placed: datetime, now: datetime, city: str, extras: dict[str, Any]) -> list[dict[str, Any]]:
    reached = {"packed": 1, "shipped": 2, "in_transit": 3, "out_for_delivery": 4}.get(status, 4)
    events = []
    last_at = now - timedelta(days=3) if extras.get("stale_scan") else now - timedelta(hours=2)
    span = max((last_at - placed).total_seconds(), 3600 * reached)
    for k, st in enumerate(TIMELINE[:reached]):
        at = placed + timedelta(seconds=span * (k + 1) / (reached + 1))
        events.append({"at": at.replace(microsecond=0).isoformat(), "status": st,
                       "location": "Bhiwandi hub" if k < 2 else city, "note": st.replace("_", " ").capitalize()})
    if status in ("delivery_failed", "rto_initiated", "rto_delivered"):
        events.append({"at": (last_at - timedelta(hours=1)).replace(microsecond=0).isoformat(),
                       "status": "delivery_failed", "location": city, "note": extras.get("ndr") or "Undelivered"})
    if status in ("rto_initiated", "rto_delivered"):
        events.append({"at": last_at.replace(microsecond=0).isoformat(), "status": status, "location": city,
                       "note": "Return to origin"})
    return events
