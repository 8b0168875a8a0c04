"""A lost or damaged parcel is escalated once per loss, urgently, in the courier's words."""
from datetime import datetime

from orderline.losses import escalate_losses
from orderline.models import OrderStatus as S
from orderline.tracking import Scan, TrackingUpdate, apply_tracking
from tests.support.values import IST, demo_id


def courier(awb, status, label, day, hour, activity=""):
    when = datetime(2026, 11, day, hour, tzinfo=IST)
    return TrackingUpdate(source="acme", awb=awb, courier="Delhivery", label=label, status=status, at=when,
                          order_ref=None, etd=None, scans=(Scan(when, label, activity, "Bhiwandi", status),))


def test_each_loss_is_escalated_once_and_a_second_loss_again(services, demo):
    oid = demo_id(demo, "in_transit")
    awb = demo[oid]["shipment"]["awb"]
    apply_tracking(services.sessions, courier(awb, S.LOST, "LOST", 28, 12, "Shipment untraceable"))
    [first] = escalate_losses(services.sessions, services.escalations, services.clock)
    assert escalate_losses(services.sessions, services.escalations, services.clock) == []  # once per loss
    esc = services.escalations.get(first)
    assert (esc.priority, esc.reason, esc.intent, esc.order_id) == (1, "delivery", "parcel_lost", oid)
    assert "LOST: Shipment untraceable (Bhiwandi)" in esc.note
    services.escalations.resolve(first, None)
    # Found, sent back, and lost again on the way: a new loss, a new escalation.
    apply_tracking(services.sessions, courier(awb, S.RTO_INITIATED, "RTO INITIATED", 29, 9))
    apply_tracking(services.sessions, courier(awb, S.DAMAGED, "DESTROYED", 29, 18, "Destroyed by the courier"))
    [second] = escalate_losses(services.sessions, services.escalations, services.clock)
    assert second != first and services.escalations.get(second).intent == "parcel_damaged"
    assert "DESTROYED: Destroyed by the courier" in services.escalations.get(second).note


def test_an_order_that_is_not_lost_is_never_escalated(services, demo):
    oid = demo_id(demo, "in_transit")
    apply_tracking(services.sessions, courier(demo[oid]["shipment"]["awb"], S.OUT_FOR_DELIVERY, "OUT FOR DELIVERY", 28, 12))
    assert escalate_losses(services.sessions, services.escalations, services.clock) == []
