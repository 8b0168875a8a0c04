"""Who the simulator can play: the seeded customers and their orders."""
from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import select

from orderline.models import Customer
from sim.deps import SimDeps


def demo_customers(svc: SimDeps, limit: int = 100) -> list[dict[str, str]]:
    with svc.sessions() as session:
        rows = session.execute(select(Customer.phone, Customer.name, Customer.language)
                               .order_by(Customer.phone).limit(limit)).all()
    return [{"phone": phone, "name": name, "language": language} for phone, name, language in rows]


def customer(svc: SimDeps, phone: str) -> dict[str, Any]:
    """The customer at `phone` (maybe a stranger) and their orders, newest first."""
    orders = svc.orders.for_phone(phone)
    person: Optional[Customer] = orders[0].customer if orders else None
    if person is None:
        with svc.sessions() as session:
            person = session.scalars(select(Customer).where(Customer.phone == phone)).one_or_none()
    return {"phone": phone, "name": person.name if person else None, "language": person.language if person else None,
            "orders": [{"order_id": o.order_id, "status": o.status,
                        "cod": bool(o.payment and o.payment.method == "cod"),
                        "courier": o.shipment.courier if o.shipment else None} for o in orders]}
