from datetime import date

import pytest

from orderline import rules
from orderline.models import OrderStatus as S


@pytest.mark.parametrize("status", ["placed", "confirmed", "packed"])
def test_address_change_allowed_before_shipping(status):
    assert rules.address_change_refusal(status) is None


@pytest.mark.parametrize("status", [s.value for s in S if s.value not in ("placed", "confirmed", "packed")])
def test_address_change_refused_after_shipping_with_reason(status):
    reason = rules.address_change_refusal(status)
    assert reason and len(reason) > 10


def test_failed_delivery_points_to_ndr_update():
    assert "delivery update" in rules.address_change_refusal("delivery_failed")


@pytest.mark.parametrize("pincode,ok", [("452001", True), ("110001", True), ("052001", False),
                                        ("45200", False), ("4520011", False), ("45200a", False), ("", False)])
def test_pincode(pincode, ok):
    assert rules.is_valid_pincode(pincode) is ok


@pytest.mark.parametrize("status,ok", [("out_for_delivery", True), ("delivery_failed", True), ("in_transit", True),
                                       ("delivered", False), ("cancelled", False), ("rto_initiated", False),
                                       ("rto_delivered", False), ("placed", False)])
def test_reschedule_statuses(status, ok):
    assert (rules.reschedule_refusal(status) is None) is ok


def test_reschedule_window_is_tomorrow_to_seven_days():
    assert rules.reschedule_window(date(2026, 11, 28)) == (date(2026, 11, 29), date(2026, 12, 5))


@pytest.mark.parametrize("status,ok", [("placed", True), ("confirmed", True), ("packed", True),
                                       ("shipped", False), ("in_transit", False), ("delivered", False),
                                       ("cancelled", False)])
def test_cancel_before_shipping_only(status, ok):
    assert (rules.cancel_refusal(status) is None) is ok


def test_return_window():
    today = date(2026, 11, 28)
    assert rules.return_refusal("delivered", date(2026, 11, 21), today) is None
    assert "closed" in rules.return_refusal("delivered", date(2026, 11, 20), today)
    assert rules.return_refusal("in_transit", None, today)


def test_whatsapp_window_is_24_hours_from_the_last_inbound_message():
    from datetime import datetime, timedelta

    from tests.support.values import NOW

    assert rules.window_until(None, NOW) is None and not rules.window_open(None, NOW)
    wrote = NOW - timedelta(hours=23, minutes=59)
    assert rules.window_open(wrote, NOW) and rules.window_until(wrote, NOW) == wrote + timedelta(hours=24)
    for stale in (NOW - timedelta(hours=24), NOW - timedelta(days=3)):
        assert not rules.window_open(stale, NOW) and rules.window_until(stale, NOW) is None
    assert isinstance(rules.window_until(wrote, NOW), datetime)


@pytest.mark.parametrize("status", ["lost", "damaged"])
def test_a_lost_or_damaged_parcel_cannot_be_changed_and_says_why(status):
    for refusal in (rules.address_change_refusal, rules.reschedule_refusal, rules.cancel_refusal):
        assert refusal(status) == rules.LOST_REFUSAL
    assert status in {s.value for s in rules.OPEN_STATUSES} - {s.value for s in rules.TERMINAL_STATUSES}
