"""Values the app's tests agree on: the fixed test clock, the API tokens, an import row, finding demo orders."""
from __future__ import annotations

import os
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime(2026, 11, 28, 11, 0, tzinfo=IST)  # a Saturday morning in India
API_TOKEN = "test-token-" + uuid.uuid4().hex[:8]
SHIPROCKET_TOKEN = "sr-token-" + uuid.uuid4().hex[:8]
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")

# One valid order row in the import format (orderline/importer.py), not part of the demo data.
GOOD_ROW = {"order_id": "OL-100234", "placed_at": "2026-11-20T10:15:00+05:30",
            "customer": {"name": "Asha Verma", "phone": "+919000000099", "email": "a@example.com", "language": "en"},
            "items": [{"sku": "TSHIRT-M", "name": "Cotton T-shirt (M)", "qty": 2, "unit_price": 499.0}],
            "amount": 998.0, "currency": "INR",
            "payment": {"method": "cod", "status": "pending", "reference": "pay_1",
                        "refund": {"amount": 998.0, "status": "processed", "reference": "rf_1", "expected_by": "2026-11-30"}},
            "shipping_address": {"line1": "12 MG Road", "line2": "", "landmark": "", "city": "Indore",
                                 "state": "Madhya Pradesh", "pincode": "452001"},
            "status": "in_transit",
            "shipment": {"courier": "Delhivery", "awb": "1234567890", "tracking_url": "https://example.com/t",
                         "promised_date": "2026-11-25", "expected_date": "2026-11-26", "attempts": 0, "ndr_reason": None,
                         "events": [{"at": "2026-11-22T09:00:00+05:30", "status": "shipped", "location": "Surat",
                                     "note": "Picked up"}]}}


def demo_id(rows: dict, order_status: str, **match) -> str:
    """The first demo order with this status (and matching payment fields)."""
    for oid, row in rows.items():
        if row["status"] == order_status and all(row["payment"].get(k) == v for k, v in match.items()):
            return oid
    raise LookupError(order_status)
