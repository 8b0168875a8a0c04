"""Presented orders as HTTP bodies: the API's JSON bytes, read through the order cache."""
from __future__ import annotations

import json
import logging
from typing import Any, Sequence

from sqlalchemy.exc import SQLAlchemyError

from orderline.clock import Clock
from orderline.orders import OrderService, order_digits
from orderline.phones import normalise_phone
from orderline.present import OrderRows
from orderline.uow import OrderChanged
from web.order_cache import OrderCache

log = logging.getLogger(__name__)


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
        e164 = normalise_phone(phone)
        return self.cache.phone_list(e164, self.clock.today().isoformat(), limit,
                                     lambda: to_json({"orders": self.rows.for_phone(e164, limit)}))

    def forget(self, changed: Sequence[OrderChanged]) -> None:
        """The after-commit hook: a new generation for each changed order and for its customer's list.

        The phones are read after the commit, so an order's current customer is the one whose list
        is refreshed (a new order, a status change, an edit of the customer). Nothing in Orderline
        moves an order to another customer or edits a phone; if something did, the old phone's
        list would be stale until its entry expires (`order_cache.TTL`).
        """
        if not self.cache.enabled:
            return
        numbers = {c.number for c in changed}
        try:
            phones = self.rows.phones_of(numbers)
        except SQLAlchemyError:
            log.warning("could not find the phones of changed orders %s; their lists stay cached", sorted(numbers))
            phones = set()
        self.cache.invalidate(numbers, phones)
