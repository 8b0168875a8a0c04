"""Client for the Orderline order service (docs/api.md).

The client turns HTTP answers into domain outcomes: an `Order` value, or a
`Result` whose `outcome` names what happened. Actions never see a response
object, a status code or an exception from the network.
"""
from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any, Dict, List, Optional, Tuple

import aiohttp

logger = logging.getLogger(__name__)

CLOSED_STATUSES = frozenset({"delivered", "cancelled", "rto_delivered"})


class Outcome(str, Enum):
    """What a call to the order service came to."""

    OK = "ok"
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"
    NOT_PROVEN = "not_proven"
    REFUSED = "refused"  # the order or the asker is locked after too many wrong proofs
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Refund:
    amount: float
    status: str
    reference: Optional[str]
    expected_by: Optional[str]


@dataclass(frozen=True)
class Payment:
    method: str
    status: str
    reference: Optional[str]
    refund: Optional[Refund]


@dataclass(frozen=True)
class Shipment:
    courier: Optional[str]
    awb: Optional[str]
    tracking_url: Optional[str]
    promised_date: Optional[str]
    expected_date: Optional[str]
    attempts: int
    ndr_reason: Optional[str]
    delivered_at: Optional[str]
    is_delayed: bool
    rescheduled_for: Optional[str]
    rescheduled_slot: Optional[str]


@dataclass(frozen=True)
class Allowed:
    change_address: bool = False
    reschedule: bool = False
    cancel: bool = False
    return_: bool = False


@dataclass(frozen=True)
class Order:
    """The parts of an order the assistant talks about."""

    order_id: str
    placed_at: str
    status: str
    customer_name: str
    customer_phone: str
    items: Tuple[Dict[str, Any], ...]
    amount: float
    currency: str
    payment: Payment
    shipping_address: Dict[str, Any]
    shipment: Optional[Shipment]
    allowed: Allowed
    return_window_ends: Optional[str]
    return_request: Optional[Dict[str, Any]]
    store_ref: Optional[str] = None  # the store's own number ("#2041"), for an order a store sent

    @property
    def shown_id(self) -> str:
        """The number to say to the customer: the store's when the order came from one."""
        return self.store_ref or self.order_id

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES

    @property
    def pincode(self) -> str:
        return str(self.shipping_address.get("pincode") or "")

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "Order":
        pay = data.get("payment") or {}
        refund = pay.get("refund")
        ship = data.get("shipment")
        allowed = data.get("allowed") or {}
        customer = data.get("customer") or {}
        return cls(
            order_id=data["order_id"],
            placed_at=data.get("placed_at") or "",
            status=data.get("status") or "unknown",
            customer_name=customer.get("name") or "",
            customer_phone=customer.get("phone") or "",
            items=tuple(data.get("items") or ()),
            amount=float(data.get("amount") or 0),
            currency=data.get("currency") or "INR",
            payment=Payment(
                method=pay.get("method") or "",
                status=pay.get("status") or "",
                reference=pay.get("reference"),
                refund=Refund(
                    amount=float(refund.get("amount") or 0),
                    status=refund.get("status") or "",
                    reference=refund.get("reference"),
                    expected_by=refund.get("expected_by"),
                )
                if refund
                else None,
            ),
            shipping_address=dict(data.get("shipping_address") or {}),
            shipment=Shipment(
                courier=ship.get("courier"),
                awb=ship.get("awb"),
                tracking_url=ship.get("tracking_url"),
                promised_date=ship.get("promised_date"),
                expected_date=ship.get("expected_date"),
                attempts=int(ship.get("attempts") or 0),
                ndr_reason=ship.get("ndr_reason"),
                delivered_at=ship.get("delivered_at"),
                is_delayed=bool(ship.get("is_delayed")),
                rescheduled_for=ship.get("rescheduled_for"),
                rescheduled_slot=ship.get("rescheduled_slot"),
            )
            if ship
            else None,
            allowed=Allowed(
                change_address=bool(allowed.get("change_address")),
                reschedule=bool(allowed.get("reschedule")),
                cancel=bool(allowed.get("cancel")),
                return_=bool(allowed.get("return")),
            ),
            return_window_ends=data.get("return_window_ends"),
            return_request=data.get("return_request"),
            store_ref=data.get("store_ref"),
        )


@dataclass(frozen=True)
class Result:
    """Outcome of a call, with the order it returned when there is one."""

    outcome: Outcome
    order: Optional[Order] = None
    orders: Tuple[Order, ...] = ()
    reason: Optional[str] = None
    fields: Dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


@dataclass(frozen=True)
class Escalation:
    """A request for a person to take over a conversation.

    Without a `reason` the order service picks the queue from the `intent`; it always sets the
    priority from the reason.
    """

    reason: Optional[str]  # delivery | payments | complaint | general
    intent: Optional[str]
    confidence: Optional[float]
    channel: Optional[str]
    phone: Optional[str]
    order_id: Optional[str] = None
    note: Optional[str] = None


class OrderServiceClient:
    """Talks to the order service over HTTP, without blocking the event loop.

    Args:
        base_url: Root of the service, e.g. ``http://localhost:5000``.
        token: Bearer token for ``Authorization``.
        timeout: Seconds before a call counts as failed.
        actor: Sent as ``X-Actor`` so the audit log names the assistant.
    """

    def __init__(
        self,
        base_url: str = "http://localhost:5000",
        token: str = "",
        timeout: float = 3.0,
        actor: str = "assistant",
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/api/v1"
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.actor = actor

    @classmethod
    def from_env(cls, env: Optional[Dict[str, str]] = None) -> "OrderServiceClient":
        """Builds a client from ORDER_SERVICE_URL, API_TOKEN and ORDER_SERVICE_TIMEOUT."""
        env = os.environ if env is None else env
        return cls(
            base_url=env.get("ORDER_SERVICE_URL", "http://localhost:5000"),
            token=env.get("API_TOKEN", ""),
            timeout=float(env.get("ORDER_SERVICE_TIMEOUT", "3")),
        )

    async def _call(
        self, method: str, path: str, *, json: Any = None, params: Any = None
    ) -> Tuple[Optional[int], Dict[str, Any]]:
        """Returns (status, body); status is None when the service could not answer."""
        headers = {"Authorization": f"Bearer {self.token}", "X-Actor": self.actor}
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session:
                async with session.request(
                    method, self.base_url + path, json=json, params=params, headers=headers
                ) as resp:
                    try:
                        body = await resp.json(content_type=None)
                    except (ValueError, aiohttp.ContentTypeError):
                        body = {}
                    return resp.status, body if isinstance(body, dict) else {}
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            logger.warning("order service %s %s failed: %r", method, path, exc)
            return None, {}

    @staticmethod
    def _order_result(status: Optional[int], body: Dict[str, Any], ok: Tuple[int, ...]) -> Result:
        if status in ok and "order_id" in body:
            return Result(Outcome.OK, order=Order.from_json(body))
        if status == 404:
            return Result(Outcome.NOT_FOUND, reason=body.get("message"))
        if status == 409:
            return Result(Outcome.NOT_ALLOWED, reason=body.get("reason") or body.get("message"))
        if status in (400, 422):
            return Result(
                Outcome.INVALID,
                reason=body.get("message") or body.get("error"),
                fields=body.get("fields") or {},
            )
        return Result(Outcome.UNAVAILABLE)

    async def get_order(self, order_id: str) -> Result:
        status, body = await self._call("GET", f"/orders/{order_id}")
        return self._order_result(status, body, (200,))

    async def resolve(self, ref: str) -> Result:
        """The order ``ref`` names as a customer wrote it: our id, the store's number ("#2041") or the AWB."""
        status, body = await self._call("GET", "/orders/resolve", params={"ref": ref})
        return self._order_result(status, body, (200,))

    async def orders_for_phone(self, phone: str) -> Result:
        """Orders placed from ``phone``, newest first."""
        status, body = await self._call("GET", "/orders", params={"phone": phone})
        if status == 200:
            orders = tuple(Order.from_json(o) for o in body.get("orders") or ())
            return Result(Outcome.OK, orders=orders)
        if status == 400:
            return Result(Outcome.INVALID, reason=body.get("message"))
        return Result(Outcome.UNAVAILABLE)

    async def verify_ownership(self, order_id: str, proof: str, sender: str) -> Result:
        """OK when ``proof`` (one candidate) proves ``sender`` owns the order, else NOT_PROVEN.

        REFUSED once the order or the sender is locked after too many wrong proofs. The answer is
        the same for a reference that names no order; fetch the order once it is proven.
        """
        status, body = await self._call("POST", f"/orders/{order_id}/verify",
                                        json={"proof": proof, "sender": sender})
        if status == 200 and isinstance(body.get("matched"), bool):
            if body["matched"]:
                return Result(Outcome.OK)
            return Result(Outcome.REFUSED if body.get("refused") else Outcome.NOT_PROVEN)
        if status in (400, 422):
            return Result(Outcome.INVALID, reason=body.get("message"), fields=body.get("fields") or {})
        return Result(Outcome.UNAVAILABLE)

    async def send_code(self, order_id: str, channel: str = "chat") -> Result:
        """Sends a one-time code to the order's own WhatsApp number; OK once it is on its way."""
        status, body = await self._call("POST", f"/orders/{order_id}/codes", json={"channel": channel})
        if status == 202 and body.get("sent") is True:
            return Result(Outcome.OK)
        if status == 202:
            return Result(Outcome.NOT_ALLOWED, reason=body.get("status"))
        if status == 404:
            return Result(Outcome.NOT_FOUND)
        return Result(Outcome.UNAVAILABLE)

    async def check_code(self, order_id: str, code: str) -> Result:
        """OK when ``code`` is the order's live code; else NOT_PROVEN with ``fields["tries_left"]``."""
        status, body = await self._call("POST", f"/orders/{order_id}/codes/check", json={"code": code})
        if status == 200 and isinstance(body.get("matched"), bool):
            tries_left = body.get("tries_left") if isinstance(body.get("tries_left"), int) else 0
            return Result(Outcome.OK if body["matched"] else Outcome.NOT_PROVEN, fields={"tries_left": tries_left})
        if status in (400, 404, 422):
            return Result(Outcome.INVALID, reason=body.get("message"))
        return Result(Outcome.UNAVAILABLE)

    async def change_address(self, order_id: str, address: Dict[str, Any]) -> Result:
        status, body = await self._call("POST", f"/orders/{order_id}/address", json=address)
        return self._order_result(status, body, (200,))

    async def reschedule(self, order_id: str, on: date, slot: Optional[str] = None) -> Result:
        payload: Dict[str, Any] = {"date": on.isoformat()}
        if slot:
            payload["slot"] = slot
        status, body = await self._call("POST", f"/orders/{order_id}/reschedule", json=payload)
        return self._order_result(status, body, (200,))

    async def cancel(self, order_id: str, reason: Optional[str] = None) -> Result:
        payload = {"reason": reason} if reason else {}
        status, body = await self._call("POST", f"/orders/{order_id}/cancel", json=payload)
        return self._order_result(status, body, (200,))

    async def request_return(self, order_id: str, kind: str, reason: str) -> Result:
        status, body = await self._call(
            "POST", f"/orders/{order_id}/return", json={"kind": kind, "reason": reason}
        )
        return self._order_result(status, body, (200, 201))

    async def ndr_action(
        self,
        order_id: str,
        action: str,
        *,
        on: Optional[date] = None,
        details: Optional[str] = None,
        channel: Optional[str] = None,
        customer_words: Optional[str] = None,
        message_sid: Optional[str] = None,
    ) -> Result:
        """Answers a failed delivery: ``reattempt`` on a date or ``update_details``.

        ``customer_words`` and ``message_sid`` are the courier's proof of the customer's request.
        """
        payload: Dict[str, Any] = {"action": action}
        if on:
            payload["date"] = on.isoformat()
        if details:
            payload["details"] = details
        if channel:
            payload["channel"] = channel
        if customer_words:
            payload["customer_words"] = customer_words
        if message_sid:
            payload["message_sid"] = message_sid
        status, body = await self._call("POST", f"/orders/{order_id}/ndr", json=payload)
        return self._order_result(status, body, (200, 201))

    async def escalate(self, escalation: Escalation) -> Result:
        """Opens an escalation; any non-2xx answer or timeout is UNAVAILABLE.

        On OK, ``reason`` is the queue the order service chose and ``fields["id"]`` the escalation.
        """
        payload = {k: v for k, v in escalation.__dict__.items() if v is not None}
        status, body = await self._call("POST", "/escalations", json=payload)
        if status is not None and 200 <= status < 300:
            esc = body.get("escalation") or {}
            return Result(Outcome.OK, reason=esc.get("reason"), fields={"id": esc.get("id")})
        return Result(Outcome.UNAVAILABLE)


def open_orders(orders: List[Order]) -> List[Order]:
    return [o for o in orders if o.is_open]
