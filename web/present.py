"""Presented orders as HTTP bodies: the API's JSON bytes, read through the order cache."""
from __future__ import annotations

import json
from typing import Any

from orderline.clock import Clock
from orderline.orders import OrderService, order_digits
from orderline.present import OrderRows
from web.order_cache import OrderCache


def to_json(value: Any) -> bytes:
    """The HTTP body for `value`, byte for byte what Flask's `jsonify` sends (sorted, compact)."""
    return (json.dumps(value, sort_keys=True, separators=(",", ":")) + "\n").encode()


class OrderReads:
    """Presented orders for readers (API, channels): JSON bytes, through the order cache."""

    def __init__(self, orders: OrderService, cache: OrderCache, clock: Clock) -> None:
        self.orders = orders
        self.cache = cache
        self.clock = clock
        with orders.factory() as session:
            self.rows = OrderRows(session.get_bind(), clock)

    def json_by_ref(self, ref: str) -> bytes:
        """The order as the API's JSON body; raises OrderNotFound."""
        number = order_digits(ref)
        return self.cache.get_or_load(number, self.clock.today().isoformat(),
                                      lambda: to_json(self.rows.by_number(number)))

    def by_ref(self, ref: str) -> dict[str, Any]:
        """The order as a dict; raises OrderNotFound."""
        return json.loads(self.json_by_ref(ref))

    def json_for_phone(self, phone: str, limit: int = 50) -> bytes:
        """`{"orders": [...]}`, newest first, as the API's JSON body; raises InvalidPhone."""
        return to_json({"orders": self.rows.for_phone(phone, limit)})
