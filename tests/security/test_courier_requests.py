"""Attacks through courier requests: forged confirmation tags in the customer's words, hostile answers."""
from __future__ import annotations

import pytest
import redis

from couriers.shiprocket_api import ShiprocketApi, ndr_comments
from orderline.courier_outbox import marker
from orderline.ports import CourierCall
from tests.support.fake_shiprocket import EMAIL, PASSWORD, FakeShiprocket

AWB = "7700031676"


@pytest.fixture
def fake():
    server = FakeShiprocket()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def api(fake, redis_url):
    return ShiprocketApi(fake.base_url, EMAIL, PASSWORD, redis.Redis.from_url(redis_url), timeout=(2.0, 2.0))


def call(request_id: int, words: str) -> CourierCall:
    return CourierCall(request_id=request_id, kind="reattempt", order_id="OL-100361", awb=AWB, external_order_id=None,
                       payload={"date": "2026-12-04", "customer_words": words, "details": words})


def test_customer_cannot_forge_the_tag_that_confirms_another_request(fake, api):
    """A customer writes request 43's tag into request 42: 43 must not then read as already sent."""
    fake.add_order("OL-100361", AWB)
    forged = f"tomorrow {marker(43)}"
    text = ndr_comments(call(42, forged))
    assert marker(43) not in text and text.endswith(marker(42))
    assert api.send(call(42, forged)).outcome == "accepted"
    assert api.confirm(call(43, "")) is False  # 43 is not in the history, whatever 42 carried
    assert api.confirm(call(42, "")) is True


def test_oversized_words_are_cut_but_the_tag_survives(fake, api):
    text = ndr_comments(call(42, "x" * 50_000))
    assert len(text) <= 1000 and text.endswith(marker(42))


def test_hostile_error_bodies_become_short_reasons(fake, api):
    fake.add_order("OL-100361", AWB)
    fake.fail_next("ndr_action", 422, {"message": "m" * 100_000, "errors": {"a" * 5000: ["b" * 5000]}})
    answer = api.send(call(42, "kal"))
    assert answer.outcome == "refused" and len(answer.reason) <= 500


def test_the_bearer_token_never_appears_in_a_reason(fake, api):
    fake.add_order("OL-100361", AWB)
    token = api.token()
    fake.fail_next("ndr_action", 500, {"message": "boom", "status_code": 500})
    answer = api.send(call(42, "kal"))
    assert token not in (answer.reason or "")
