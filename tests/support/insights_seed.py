"""A small, hand-checked dataset for the operations dashboard, and its known answers.

The range is Sun 22 – Sat 28 Nov 2026 (IST); "now" is the test clock, Sat 28 Nov 11:00 IST.
Every number in EXPECTED was worked out by hand from the rows below (the comments say how);
nothing here calls orderline.insights.

Conversations (customer, channel, IST day), see docs/insights.md for the definitions:
  A  P1 whatsapp 23  order_status (2 messages)  no escalation                   contained
  B  P2 whatsapp 24  greet, then refund_status  E1 25 Nov 11:00, 23 h later     escalated
  J  P2 voice    24  payment_query (speech)     E1 (same conversation row)      escalated
  C  P3 whatsapp 25  order_status               E2 26 09:30 is 24 h 27 min late contained
  D  P3 whatsapp 26  human_handoff              E2 26 09:30                     escalated
  E  P4 voice    26  keypad 1 -> order_status   none                            contained
  F  P5 voice    27  keypad 0 -> human_handoff  E3 at once                      escalated
  G  P6 whatsapp 28  order_status at 10:00      none, 24 h not over at 11:00    open
  H  P7 whatsapp 27  while an agent owns it     (no bot reply: not counted)
  I  P8 whatsapp 22  00:10 IST = 21 Nov UTC     none                            contained
  K  P9 whatsapp 27  greet only -> "other"      none                            contained
  L  P10 whatsapp 28 CSAT "1" (no intent)       E5 complaint                    escalated
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Optional
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from couriers import shiprocket
from orderline.models import (Conversation, Customer, Escalation, Message, NdrAction, Notification, Order,
                              OrderFeedback, OrderStatus, Shipment, ShipmentEvent)

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime(2026, 11, 28, 11, 0, tzinfo=IST)
FROM, TO = "2026-11-22", "2026-11-28"


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=IST)


def event(when: datetime, label: str) -> ShipmentEvent:
    """A timeline row as it would arrive: our status names from an import, upper case from Shiprocket."""
    if label in {s.value for s in OrderStatus}:
        return ShipmentEvent(at=when, status=label, order_status=label, source="import")
    meaning = shiprocket.LABELS.get(label)
    return ShipmentEvent(at=when, status=label, order_status=meaning.value if meaning else None, source="shiprocket")


class Seeder:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.convs: dict[str, Conversation] = {}
        self.n_orders = 0

    def conv(self, phone: str) -> Conversation:
        if phone not in self.convs:
            self.convs[phone] = Conversation(phone=phone, state="bot", created_at=at(1, 9))
            self.s.add(self.convs[phone])
        return self.convs[phone]

    def said(self, phone: str, channel: str, when: datetime, text: str, intent: Optional[str] = None,
             confidence: Optional[float] = None) -> None:
        self.s.add(Message(conversation=self.conv(phone), direction="in", channel=channel, author="customer",
                           text=text, status="received", intent=intent, confidence=confidence, created_at=when))

    def reply(self, phone: str, channel: str, when: datetime, text: str = "ok", author: Optional[str] = None,
              status: str = "sent", direction: str = "out") -> Message:
        msg = Message(conversation=self.conv(phone), direction=direction, channel=channel,
                      author=author or ("ivr" if channel == "voice" else "bot"), text=text, status=status,
                      created_at=when)
        self.s.add(msg)
        return msg

    def escalate(self, phone: str, channel: str, reason: str, created: datetime, claimed: Optional[datetime] = None,
                 first_reply: Optional[datetime] = None, resolved: Optional[datetime] = None,
                 resolution: Optional[str] = None) -> None:
        status = "resolved" if resolved else ("claimed" if claimed else "open")
        self.s.add(Escalation(conversation=self.conv(phone), reason=reason, channel=channel, status=status,
                              created_at=created, claimed_at=claimed, first_reply_at=first_reply,
                              resolved_at=resolved, resolution=resolution))

    def order(self, events: list[tuple[datetime, str]] = ()) -> Order:
        self.n_orders += 1
        n = self.n_orders
        customer = Customer(name=f"Customer {n}", phone=f"+9192000{n:05d}", language="en", created_at=at(1, 9))
        order = Order(order_id=f"OL-9{n:05d}", number=f"9{n:05d}", customer=customer, placed_at=at(15, 9),
                      items=[], amount=Decimal("499.00"), status="shipped")
        if events:
            order.shipment = Shipment(awb=f"SEED{n:06d}", courier="Delhivery",
                                      events=[event(when, label) for when, label in events])
        self.s.add(order)
        return order

    def notify(self, order: Order, event: str, created: datetime, status: str, sent: Optional[datetime] = None,
               message_status: Optional[str] = None) -> None:
        message = None
        if message_status:
            message = self.reply(order.customer.phone, "whatsapp", created, f"{event} news", f"notifier:{event}",
                                 message_status)
        # Keyed by its time, as a courier's scan keys it: an order may be told of each failed attempt.
        self.s.add(Notification(order=order, event=event, key=f"seed:{created:%Y%m%dT%H%M}", status=status,
                                created_at=created, sent_at=sent, message=message))

    def csat(self, order: Order, value: str, when: datetime, kind: str = "csat") -> None:
        self.s.flush()  # OrderFeedback has no relationship to Order, only the key
        self.s.add(OrderFeedback(order_pk=order.id, kind=kind, value=value, created_at=when))


def seed(sessions: sessionmaker[Session]) -> None:
    """Write the dataset (into an empty, migrated database)."""
    with sessions() as session:
        s = Seeder(session)
        wa, voice = "whatsapp", "voice"
        # -- conversations ----------------------------------------------------------------------
        s.said("+919100000001", wa, at(23, 10), "where is my order", "order_status", 0.93)  # A
        s.reply("+919100000001", wa, at(23, 10, 0, 5))
        s.said("+919100000001", wa, at(23, 10, 2), "status of OL-1 please", "order_status", 0.88)
        s.reply("+919100000001", wa, at(23, 10, 2, 4))

        s.said("+919100000002", wa, at(24, 12), "hi", "greet", 0.99)  # B
        s.reply("+919100000002", wa, at(24, 12, 0, 2))
        s.said("+919100000002", wa, at(24, 12, 1), "where is my refund", "refund_status", 0.85)
        s.reply("+919100000002", wa, at(24, 12, 1, 3))
        s.reply("+919100000002", voice, at(24, 12, 30))  # J: the IVR welcome comes before the caller speaks
        s.said("+919100000002", voice, at(24, 12, 30, 20), "payment kab milega", "payment_query", 0.87)
        s.reply("+919100000002", voice, at(24, 12, 30, 25))
        s.escalate("+919100000002", wa, "payments", at(25, 11), at(25, 11, 4), at(25, 11, 10), at(25, 12),
                   "resolved")  # E1

        s.said("+919100000003", wa, at(25, 9), "track my order", "order_status", 0.9)  # C
        s.reply("+919100000003", wa, at(25, 9, 0, 3))
        s.said("+919100000003", wa, at(26, 9, 29), "talk to a person", "human_handoff", 0.95)  # D
        s.reply("+919100000003", wa, at(26, 9, 29, 30))
        s.escalate("+919100000003", wa, "delivery", at(26, 9, 30), at(26, 9, 31), at(26, 9, 35), at(26, 10),
                   "handed_back")  # E2
        s.reply("+919100000003", "console", at(26, 9, 36), "customer upset", "agent:asha", direction="note")

        s.reply("+919100000004", voice, at(26, 15))  # E
        s.said("+919100000004", voice, at(26, 15, 0, 10), "[pressed 1: status]", "order_status", 1.0)
        s.reply("+919100000004", voice, at(26, 15, 0, 11))

        s.reply("+919100000005", voice, at(27, 18))  # F
        s.said("+919100000005", voice, at(27, 18, 0, 5), "[pressed 0: a person]", "human_handoff", 1.0)
        s.reply("+919100000005", voice, at(27, 18, 0, 6))
        s.escalate("+919100000005", voice, "delivery", at(27, 18, 0, 6), at(27, 18, 2, 6), None, at(27, 18, 20, 6),
                   "resolved")  # E3

        s.said("+919100000006", wa, at(28, 10), "where's my parcel", "order_status", 0.8)  # G
        s.reply("+919100000006", wa, at(28, 10, 0, 4))

        s.escalate("+919100000007", wa, "general", at(21, 15), at(21, 15, 5), at(21, 15, 10))  # E4, before the range
        s.said("+919100000007", wa, at(27, 20), "hello?")  # H
        s.reply("+919100000007", wa, at(27, 20, 5), "Hi, Asha here", "agent:asha")

        s.said("+919100000008", wa, at(21, 23), "where is my order", "order_status", 0.9)  # 21 Nov: outside
        s.reply("+919100000008", wa, at(21, 23, 0, 3))
        s.said("+919100000008", wa, at(22, 0, 10), "any update on my order", "order_status", 0.9)  # I
        s.reply("+919100000008", wa, at(22, 0, 10, 2))

        s.said("+919100000009", wa, at(27, 9), "hi", "greet", 0.99)  # K
        s.reply("+919100000009", wa, at(27, 9, 0, 1))

        s.said("+919100000010", wa, at(28, 8, 59), "1 terrible packaging")  # L
        s.reply("+919100000010", wa, at(28, 8, 59, 1), "We're sorry it wasn't good.")
        s.escalate("+919100000010", wa, "complaint", at(28, 8, 59, 2))  # E5
        s.reply("+919100000010", wa, at(28, 8, 59, 3), "A person will reply", "system")

        # -- shipments: the first courier scan is the ship day ------------------------------------
        s1 = s.order([(at(21, 20), "packed"), (at(22, 0, 30), "SHIPPED")])  # 22 (21 Nov in UTC)
        s.order([(at(22, 14), "shipped"), (at(23, 10), "in_transit")])  # 22
        s3 = s.order([(at(23, 11), "PICKED UP")])  # 23
        s4 = s.order([(at(25, 9), "shipped"), (at(26, 8), "IN TRANSIT")])  # 25
        s5 = s.order([(at(25, 12), "IN TRANSIT")])  # 25
        s6 = s.order([(at(25, 18), "shipped")])  # 25
        s7 = s.order([(at(26, 10), "shipped")])  # 26
        s.order([(at(26, 23, 59), "HANDOVER TO COURIER")])  # 26
        s9 = s.order([(at(27, 9), "shipped")])  # 27
        s10 = s.order([(at(27, 12), "shipped"), (at(28, 10), "delivered")])  # 27
        s11 = s.order([(at(21, 12), "shipped"), (at(22, 9), "out_for_delivery")])  # 21: outside
        s.order([(at(24, 10), "packed"), (at(24, 11), "PICKUP SCHEDULED")])  # never shipped

        # -- failed deliveries (shipped before the range) -----------------------------------------
        n1 = s.order([(at(18, 10), "shipped"), (at(23, 11), "delivery_failed"), (at(25, 14), "DELIVERED")])
        session.add(NdrAction(order=n1, action="reattempt", channel="whatsapp", created_at=at(23, 12)))
        n2 = s.order([(at(18, 11), "shipped"), (at(24, 11), "UNDELIVERED"), (at(25, 11), "UNDELIVERED"),
                      (at(26, 10), "RTO INITIATED")])
        n3 = s.order([(at(19, 10), "shipped"), (at(26, 13), "UNDELIVERED")])
        session.add(NdrAction(order=n3, action="update_details", details="landmark", channel="voice",
                              created_at=at(26, 15)))
        n4 = s.order([(at(19, 11), "shipped"), (at(27, 13), "FAILED DELIVERY"), (at(28, 10, 30), "DELIVERED")])
        n5 = s.order([(at(17, 10), "shipped"), (at(20, 13), "UNDELIVERED"), (at(23, 13), "UNDELIVERED")])
        session.add(NdrAction(order=n5, action="reattempt", created_at=at(23, 14)))  # first failure 20 Nov: outside
        n7 = s.order([(at(19, 12), "shipped"), (at(22, 12), "delivery_failed"), (at(24, 9), "rto_initiated")])
        session.add(NdrAction(order=n7, action="reattempt", channel="whatsapp", created_at=at(22, 12, 30)))
        n8 = s.order([(at(19, 13), "shipped"), (at(27, 16), "UNDELIVERED"), (at(28, 9), "DELIVERED")])
        session.add(NdrAction(order=n8, action="reattempt", created_at=at(21, 10)))  # before the failure: no answer

        # -- CSAT --------------------------------------------------------------------------------
        for order, value, when in ((s1, "5", at(23, 10)), (s3, "5", at(25, 10)), (s4, "5", at(27, 10)),
                                   (s5, "4", at(26, 10)), (s6, "2", at(24, 10)), (s7, "1", at(28, 8, 59)),
                                   (s9, "5", at(21, 10)), (s10, "x", at(26, 11))):
            s.csat(order, value, when)
        s.csat(s11, "yes", at(25, 9), kind="cod_confirmation")

        # -- notifications: the first one sent is 25 Nov 10:00 ------------------------------------
        s.notify(s3, "shipped", at(23, 11), "refused", message_status="refused")
        s.notify(s4, "shipped", at(25, 10), "sent", at(25, 10), "delivered")
        s.notify(s5, "shipped", at(25, 12), "sent", at(25, 12, 0, 30), "read")
        s.notify(s6, "shipped", at(25, 18), "sent", at(25, 18), "sent")
        s.notify(s7, "shipped", at(26, 10), "sent", at(26, 10), "undelivered")
        s.notify(s9, "out_for_delivery", at(27, 9, 30), "sent", at(27, 9, 30), "outbox")
        s.notify(n2, "delivery_failed", at(24, 11), "failed", message_status="failed")
        s.notify(n2, "delivery_failed", at(25, 11), "failed", message_status="failed")  # its second attempt
        s.notify(n3, "delivery_failed", at(26, 13), "pending")
        s.notify(n1, "delivered", at(25, 14), "sent", at(25, 14), "delivered")
        s.notify(s10, "delivered", at(28, 10), "skipped")
        s.notify(n4, "delivered", at(28, 10, 30), "refused", message_status="refused")
        s.notify(s11, "confirmed", at(20, 10), "refused")  # before the range
        session.commit()


def row(columns: str, *values: Any) -> dict[str, Any]:
    return dict(zip(columns.split(), values))


CONTAINMENT = "channel conversations contained escalated still_open containment_pct"
INTENT = "intent conversations contained escalated still_open containment_pct"
HANDOFFS = "channel conversations escalations handoff_pct resolved handed_back active"
REASONS = "reason escalations share_pct whatsapp voice"
TIMES = "measure channel n avg_minutes median_minutes max_minutes"
DAILY = "day phase wismo_contacts orders_shipped per_100_shipped"
PHASES = "phase days wismo_contacts orders_shipped per_100_shipped first_day last_day"
NDR = "response orders failed_attempts delivered returned_to_origin pending delivered_pct"
NOTIFY = "event total sent delivered was_read failed refused skipped pending delivered_pct"

EXPECTED: dict[str, list[dict[str, Any]]] = {
    # whatsapp A C I K contained, B D L escalated, G open: 4 / (4 + 3); voice E / (E + J F)
    "containment_channel": [row(CONTAINMENT, "all", 11, 5, 5, 1, 50.0),
                            row(CONTAINMENT, "whatsapp", 8, 4, 3, 1, 57.1),
                            row(CONTAINMENT, "voice", 3, 1, 2, 0, 33.3)],
    "containment_intent": [row(INTENT, "order_status", 5, 4, 0, 1, 100.0),  # A C E I, G open
                           row(INTENT, "human_handoff", 2, 0, 2, 0, 0.0),  # D F
                           row(INTENT, "other", 2, 1, 1, 0, 50.0),  # K, L
                           row(INTENT, "payment_query", 1, 0, 1, 0, 0.0),  # J
                           row(INTENT, "refund_status", 1, 0, 1, 0, 0.0)],  # B
    # E1 E2 E5 on whatsapp, E3 on voice; E4 was opened before the range
    "handoffs": [row(HANDOFFS, "all", 11, 4, 36.4, 2, 1, 1),
                 row(HANDOFFS, "whatsapp", 8, 3, 37.5, 1, 1, 1),
                 row(HANDOFFS, "voice", 3, 1, 33.3, 1, 0, 0)],
    "handoff_reasons": [row(REASONS, "delivery", 2, 50.0, 1, 1),
                        row(REASONS, "complaint", 1, 25.0, 1, 0),
                        row(REASONS, "payments", 1, 25.0, 1, 0)],
    # claim 4, 1, 2 min; first reply 10, 5 min (none on voice); resolution 60, 30, 20 min
    "handoff_times": [row(TIMES, "claim", "all", 3, 2.3, 2.0, 4.0),
                      row(TIMES, "claim", "whatsapp", 2, 2.5, 2.5, 4.0),
                      row(TIMES, "claim", "voice", 1, 2.0, 2.0, 2.0),
                      row(TIMES, "first_agent_reply", "all", 2, 7.5, 7.5, 10.0),
                      row(TIMES, "first_agent_reply", "whatsapp", 2, 7.5, 7.5, 10.0),
                      row(TIMES, "resolution", "all", 3, 36.7, 30.0, 60.0),
                      row(TIMES, "resolution", "whatsapp", 2, 45.0, 45.0, 60.0),
                      row(TIMES, "resolution", "voice", 1, 20.0, 20.0, 20.0)],
    # WISMO contacts I / A / - / C / E / - / G; shipped 2 1 0 3 2 2 0; first proactive 25 Nov 10:00
    "wismo_daily": [row(DAILY, "2026-11-22", "before", 1, 2, 50.0),
                    row(DAILY, "2026-11-23", "before", 1, 1, 100.0),
                    row(DAILY, "2026-11-24", "before", 0, 0, None),
                    row(DAILY, "2026-11-25", "after", 1, 3, 33.3),
                    row(DAILY, "2026-11-26", "after", 1, 2, 50.0),
                    row(DAILY, "2026-11-27", "after", 0, 2, 0.0),
                    row(DAILY, "2026-11-28", "after", 1, 0, None)],
    "wismo_phases": [row(PHASES, "before", 3, 2, 3, 66.7, "2026-11-22", "2026-11-24"),
                     row(PHASES, "after", 4, 3, 7, 42.9, "2026-11-25", "2026-11-28")],
    # first failure in range: n1 (answered, delivered), n2 (2 attempts, RTO), n3 (answered, pending),
    # n4 (delivered), n7 (answered, RTO), n8 (its answer predates the failure, delivered); n5 failed first 20 Nov
    "ndr": [row(NDR, "all", 6, 7, 3, 2, 1, 50.0),
            row(NDR, "responded", 3, 3, 1, 1, 1, 33.3),
            row(NDR, "no_response", 3, 4, 2, 1, 0, 66.7)],
    # 5 5 5 4 2 1 in range; a 5 on 21 Nov, a non-score and a COD answer do not count
    "csat": [row("score responses share_pct", 5, 3, 50.0), row("score responses share_pct", 4, 1, 16.7),
             row("score responses share_pct", 3, 0, 0.0), row("score responses share_pct", 2, 1, 16.7),
             row("score responses share_pct", 1, 1, 16.7)],
    "csat_summary": [row("responses average satisfied_pct", 6, 3.67, 66.7)],  # 22 / 6
    # n2's two failed attempts are two notifications, neither delivered
    "notifications": [row(NOTIFY, "all", 12, 6, 3, 1, 3, 2, 1, 1, 50.0),
                      row(NOTIFY, "confirmed", 0, 0, 0, 0, 0, 0, 0, 0, None),
                      row(NOTIFY, "shipped", 5, 4, 2, 1, 1, 1, 0, 0, 50.0),
                      row(NOTIFY, "delayed", 0, 0, 0, 0, 0, 0, 0, 0, None),
                      row(NOTIFY, "out_for_delivery", 1, 1, 0, 0, 0, 0, 0, 0, 0.0),
                      row(NOTIFY, "delivery_failed", 3, 0, 0, 0, 2, 0, 0, 1, None),
                      row(NOTIFY, "rto_initiated", 0, 0, 0, 0, 0, 0, 0, 0, None),
                      row(NOTIFY, "delivered", 3, 1, 1, 0, 0, 1, 1, 0, 100.0),
                      row(NOTIFY, "lost", 0, 0, 0, 0, 0, 0, 0, 0, None),
                      row(NOTIFY, "damaged", 0, 0, 0, 0, 0, 0, 0, 0, None)],
}
