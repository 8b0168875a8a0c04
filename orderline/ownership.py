"""Proof that someone owns an order placed from another phone, for every channel.

A customer who names an order that is not theirs by phone may hear about it once they give
the last 4 digits of the order's phone number or its delivery pincode. The chat assistant
asks through the API (`POST /api/v1/orders/<id>/verify`), the phone line calls this directly.
"""
from __future__ import annotations

import hmac
import re
from typing import Any, Iterable

from orderline.errors import InvalidInput
from orderline.models import Order

MAX_PROOFS = 20  # candidates in one answer (a chat message may hold several numbers)


def proves_ownership(order: Order, proofs: Iterable[str]) -> bool:
    """True when one of `proofs` (digit strings) is the order phone's last 4 digits or its pincode."""
    last4 = re.sub(r"\D", "", order.customer.phone or "")[-4:]  # no phone (a flagged store order): the pincode only
    pincode = (order.address.pincode or "") if order.address else ""
    for proof in proofs:
        expected = last4 if len(proof) == 4 else pincode if len(proof) == 6 else ""
        # Bytes: compare_digest refuses non-ASCII text, and a customer may type Devanagari digits.
        if expected and hmac.compare_digest(proof.encode(), expected.encode()):
            return True
    return False


def proofs_from(data: Any) -> list[str]:
    """The `proofs` of an API body: a list of up to MAX_PROOFS short strings; InvalidInput otherwise."""
    proofs = data.get("proofs") if isinstance(data, dict) else None
    if (not isinstance(proofs, list) or len(proofs) > MAX_PROOFS
            or not all(isinstance(p, str) and len(p) <= 20 for p in proofs)):
        raise InvalidInput({"proofs": f"a list of up to {MAX_PROOFS} candidate answers (text)"})
    return proofs
