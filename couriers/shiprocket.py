"""Shiprocket's tracking webhook payload, read into the core's `TrackingUpdate`.

Everything Shiprocket-specific lives here: its status labels and numeric status ids, its
timestamp shapes (naive times are IST, whatever our business time zone is), the shape of its
payload and the suffix it may add to our order id. The core sees only our statuses.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Optional
from zoneinfo import ZoneInfo

from orderline.errors import InvalidInput
from orderline.models import OrderStatus as S
from orderline.tracking import Scan, TrackingUpdate

SOURCE = "shiprocket"
# Shiprocket writes its timestamps in Indian time without saying so.
IST = ZoneInfo("Asia/Kolkata")
LABEL_MAX = 40  # the timeline's column width

# Shiprocket status labels (upper-case) onto our statuses. Labels not listed are recorded
# on the timeline but do not move the order.
LABELS: dict[str, S] = {
    "NEW": S.CONFIRMED,
    "INVOICED": S.CONFIRMED,
    "READY TO SHIP": S.PACKED,
    "AWB ASSIGNED": S.PACKED,
    "LABEL GENERATED": S.PACKED,
    "MANIFEST GENERATED": S.PACKED,
    "PICKUP SCHEDULED": S.PACKED,
    "PICKUP GENERATED": S.PACKED,
    "PICKUP QUEUED": S.PACKED,
    "OUT FOR PICKUP": S.PACKED,
    "PICKUP RESCHEDULED": S.PACKED,
    "PICKUP EXCEPTION": S.PACKED,
    "PACKED": S.PACKED,
    "PICKED UP": S.SHIPPED,
    "SHIPPED": S.SHIPPED,
    "HANDOVER TO COURIER": S.SHIPPED,
    "IN TRANSIT": S.IN_TRANSIT,
    "IN-TRANSIT": S.IN_TRANSIT,
    "REACHED AT DESTINATION HUB": S.IN_TRANSIT,
    "REACHED DESTINATION HUB": S.IN_TRANSIT,
    "MISROUTED": S.IN_TRANSIT,
    "DELAYED": S.IN_TRANSIT,
    "OUT FOR DELIVERY": S.OUT_FOR_DELIVERY,
    "UNDELIVERED": S.DELIVERY_FAILED,
    "DELIVERY FAILED": S.DELIVERY_FAILED,
    "FAILED DELIVERY": S.DELIVERY_FAILED,
    "DELIVERED": S.DELIVERED,
    "RTO INITIATED": S.RTO_INITIATED,
    "RTO IN TRANSIT": S.RTO_INITIATED,
    "RTO IN INTRANSIT": S.RTO_INITIATED,
    "RTO OFD": S.RTO_INITIATED,
    "RTO NDR": S.RTO_INITIATED,
    "RTO ACKNOWLEDGED": S.RTO_INITIATED,
    "RTO DELIVERED": S.RTO_DELIVERED,
    "CANCELED": S.CANCELLED,
    "CANCELLED": S.CANCELLED,
    "CANCELLED BEFORE DISPATCHED": S.CANCELLED,
    # The parcel will not arrive as sent: a person is told, the customer gets an apology.
    "LOST": S.LOST,
    "DAMAGED": S.DAMAGED,
    "DESTROYED": S.DAMAGED,
}
# Shiprocket's numeric shipment status ids, used when a label is missing or unknown
# (12 Lost, 22 Delayed, 24 Destroyed, 25 Damaged, 39 Misrouted: its "Shipment Status Codes").
STATUS_IDS: dict[int, S] = {
    6: S.SHIPPED, 7: S.DELIVERED, 8: S.CANCELLED, 9: S.RTO_INITIATED, 10: S.RTO_DELIVERED, 12: S.LOST,
    14: S.RTO_INITIATED, 17: S.OUT_FOR_DELIVERY, 18: S.IN_TRANSIT, 19: S.PACKED, 21: S.DELIVERY_FAILED,
    22: S.IN_TRANSIT, 24: S.DAMAGED, 25: S.DAMAGED, 38: S.IN_TRANSIT, 39: S.IN_TRANSIT, 42: S.SHIPPED,
    45: S.CANCELLED, 46: S.RTO_INITIATED,
}


def parse(payload: Any) -> TrackingUpdate:
    """Validate a decoded Shiprocket tracking payload, or raise InvalidInput naming each bad field."""
    if not isinstance(payload, dict):
        raise InvalidInput({"body": "expected a JSON object"})
    errors: dict[str, str] = {}
    awb = str(payload.get("awb") or "").strip()
    if not awb or len(awb) > 50:
        errors["awb"] = "required"
    label = str(payload.get("current_status") or payload.get("shipment_status") or "").strip().upper()
    status_id = _int(payload.get("shipment_status_id")) or _int(payload.get("current_status_id"))
    if not label and status_id is None:
        errors["current_status"] = "required"
    at = parse_time(payload.get("current_timestamp"))
    if at is None:
        errors["current_timestamp"] = "required, e.g. '23 05 2023 11:43:52'"
    scans_raw = payload.get("scans") or []
    if not isinstance(scans_raw, list):
        errors["scans"] = "expected a list"
        scans_raw = []
    scans = []
    for raw in scans_raw[:500]:
        if not isinstance(raw, dict):
            continue
        when = parse_time(raw.get("date"))
        if when is None:
            continue
        scan_label = str(raw.get("sr-status-label") or raw.get("status") or "").upper()[:LABEL_MAX]
        scans.append(Scan(when, scan_label, str(raw.get("activity") or "")[:500], str(raw.get("location") or "")[:200],
                          LABELS.get(scan_label)))
    if errors:
        raise InvalidInput(errors)
    etd_at = parse_time(payload.get("etd"))
    return TrackingUpdate(source=SOURCE, awb=awb,
                          courier=str(payload["courier_name"])[:100] if payload.get("courier_name") else None,
                          label=(label or str(status_id))[:LABEL_MAX],
                          status=LABELS.get(label) or STATUS_IDS.get(status_id or -1),
                          at=at,  # type: ignore[arg-type]  # checked above
                          order_ref=_order_ref(payload.get("order_id")),
                          etd=etd_at.date() if etd_at else None, scans=tuple(scans))


def _order_ref(value: Any) -> Optional[str]:
    """Shiprocket's order_id is the channel's id, sometimes with a suffix ("OL-100234_1")."""
    if value in (None, ""):
        return None
    return re.split(r"[_\s]", str(value))[0] or None


# Shiprocket's two usual shapes, read without strptime (the worker parses every event).
_DMY = re.compile(r"(\d\d) (\d\d) (\d{4}) (\d\d):(\d\d):(\d\d)")
_YMD = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)")


def parse_time(value: Any) -> Optional[datetime]:
    """Shiprocket sends '23 05 2023 11:43:52', '2023-05-19 11:59:16' or ISO; naive means IST."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    for shape, order in ((_DMY, (2, 1, 0)), (_YMD, (0, 1, 2))):
        match = shape.fullmatch(text)
        if match:
            parts = [int(p) for p in match.groups()]
            try:
                return datetime(parts[order[0]], parts[order[1]], parts[order[2]], *parts[3:], tzinfo=IST)
            except ValueError:
                break  # e.g. 31 02: let the general parsers decide
    for fmt in ("%d %m %Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d-%m-%Y %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=IST)
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=IST)


def _int(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
