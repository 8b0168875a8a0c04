"""What the store adapters share: reading loose webhook values into an import-format row."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable, Optional

from orderline.errors import InvalidInput, OrderNotFound
from orderline.importer import clean_row
from orderline.orders import order_digits
from orderline.phones import InvalidPhone, normalise_phone
from orderline.store_orders import StoreOrder

MAX_ITEMS = 200  # line items kept; a bigger order is still stored with its first ones


def text(value: Any, limit: int = 200) -> str:
    return " ".join(str(value).split())[:limit] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""


def obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def first_phone(candidates: Iterable[Any]) -> str:
    """The first candidate that is a phone number we can message ("" if none is)."""
    for value in candidates:
        raw = text(value, 40)
        if not raw:
            continue
        try:
            normalise_phone(raw)
        except InvalidPhone:
            continue
        return raw
    return ""


def full_name(*parts: Any) -> str:
    return " ".join(p for p in (text(x, 100) for x in parts) if p)


def digits_of(value: Any) -> str:
    """The order number in a store's number ("#2041" -> "2041"), as our orders are numbered; "" if none."""
    try:
        return order_digits(text(value, 40))
    except OrderNotFound:
        return ""


def when(value: Any, field: str, naive_is_utc: bool = False) -> datetime:
    """An ISO 8601 time; naive ones are refused unless the store writes UTC without saying so."""
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput({field: "an ISO 8601 time"}) from None
    if parsed.tzinfo is None:
        if not naive_is_utc:
            raise InvalidInput({field: "an ISO 8601 time with a UTC offset"})
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def line_items(items: Any, name_key: str, price_key: str) -> list[dict[str, Any]]:
    items = [] if items is None else items
    if not isinstance(items, list):
        raise InvalidInput({"line_items": "expected a list"})
    out = []
    for item in items[:MAX_ITEMS]:
        item = obj(item)
        qty = item.get("quantity")
        out.append({"sku": text(item.get("sku"), 100), "name": text(item.get(name_key) or item.get("title")) or "item",
                    "qty": qty if isinstance(qty, int) and not isinstance(qty, bool) else 1,
                    "unit_price": _number(item.get(price_key))})
    return out


def _number(value: Any) -> Optional[float]:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def store_order(source: str, row: dict[str, Any], store_ref: str, updated_at: datetime, cancelled: bool) -> StoreOrder:
    """The row checked as the import format is (leniently: no phone or address is not an error)."""
    return StoreOrder(source, clean_row(row, lenient=True), store_ref[:40], updated_at, cancelled)
