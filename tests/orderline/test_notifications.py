"""What the apology and the delay notices say: the remedy the seller chose, in the customer's language."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from orderline.models import Order
from orderline.notifications import render, silence_key, scan_key

ORDER_PARTS = (joinedload(Order.customer), joinedload(Order.shipment), joinedload(Order.payment))


def _order(services, demo, language, method):
    oid = next(o for o, r in demo.items() if r.get("shipment") and r["customer"]["language"] == language
               and r["payment"]["method"] == method)
    with services.sessions() as s:
        return s.scalars(select(Order).where(Order.order_id == oid).options(*ORDER_PARTS)).unique().one()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_apology_says_what_happens_next(services, demo, clock):
    prepaid, cod = _order(services, demo, "en", "prepaid"), _order(services, demo, "en", "cod")
    refund = render("lost", prepaid, clock).text
    assert "so sorry" in refund and "lost your order" in refund and f"₹{prepaid.amount:,.0f}" in refund
    assert "owe nothing" in render("damaged", cod, clock, remedy="refund").text  # nothing was paid
    replacement = render("lost", cod, clock, remedy="replacement")
    assert "replacement" in replacement.text and "owe" not in replacement.text
    assert replacement.variables["8"] == "replacement"  # the template's remedy variable
    hinglish = render("damaged", _order(services, demo, "hi", "cod"), clock, remedy="replacement").text
    assert "maafi" in hinglish and "naya order" in hinglish
    with pytest.raises(ValueError):
        render("lost", prepaid, clock, remedy="voucher")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_silence_is_told_as_one_and_a_new_date_as_another(services, demo, clock):
    order = _order(services, demo, "en", "prepaid")
    silent = render("delayed", order, clock, {"silent_since": "2026-11-24T10:00:00+05:30"}).text
    assert "hasn't updated it since Tue 24 Nov" in silent, silent
    assert "new expected date" in render("delayed", order, clock).text


def test_keys_name_the_news_in_utc():
    at = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)
    assert scan_key("AWB1", "UNDELIVERED", at) == "scan:AWB1:UNDELIVERED:20261128T093000Z"
    assert silence_key(at) == "silent:20261128T093000Z"
    assert len(scan_key("A" * 50, "L" * 40, at)) <= 120  # fits the column
