"""The Shiprocket API client against the local fake Shiprocket server (tests/support/fake_shiprocket.py)."""
from __future__ import annotations

import threading

import pytest
import redis

from couriers.shiprocket_api import TOKEN_TTL, ShiprocketApi, address_body, ndr_comments
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
def cache(redis_url):
    return redis.Redis.from_url(redis_url)


@pytest.fixture
def api(fake, cache):
    return ShiprocketApi(fake.base_url, EMAIL, PASSWORD, cache, timeout=(2.0, 1.0))


def call(kind: str = "reattempt", request_id: int = 7, **payload) -> CourierCall:
    return CourierCall(request_id=request_id, kind=kind, order_id="OL-100221", awb=AWB, external_order_id=None,
                       payload={"date": "2026-11-30", "customer_words": "kal aana", "channel": "whatsapp",
                                "message_sid": "SM" + "1" * 32, **payload},
                       customer_name="Rohit Sharma", customer_phone="+919000000001")


def test_one_login_shared_through_redis_by_every_client(fake, api, cache):
    fake.add_order("OL-100221", AWB)
    assert api.send(call()).outcome == "accepted"
    other_process = ShiprocketApi(fake.base_url, EMAIL, PASSWORD, cache)
    assert other_process.send(call(request_id=8)).outcome == "accepted"
    assert fake.logins == 1
    ttl = cache.ttl(api.token_key)
    assert TOKEN_TTL.total_seconds() - 60 < ttl <= TOKEN_TTL.total_seconds()  # renewed a day before the 10 days


def test_concurrent_first_calls_log_in_once(fake, cache):
    fake.add_order("OL-100221", AWB)
    clients = [ShiprocketApi(fake.base_url, EMAIL, PASSWORD, cache) for _ in range(6)]
    tokens: list[str] = []
    threads = [threading.Thread(target=lambda c=c: tokens.append(c.token())) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fake.logins == 1 and len(set(tokens)) == 1


def test_expired_token_gets_one_fresh_login_and_one_retry(fake, api):
    fake.add_order("OL-100221", AWB)
    assert api.send(call()).outcome == "accepted"
    fake.expire_tokens()
    assert api.send(call(request_id=8)).outcome == "accepted"
    assert fake.logins == 2
    assert len(fake.calls_to("unauthorised")) == 1
    assert len(fake.calls_to("ndr_action")) == 2


def test_a_second_401_is_not_retried_forever(fake, api):
    fake.add_order("OL-100221", AWB)
    api.token()
    fake.expire_tokens()
    fake.fail_next("login", 400, {"message": "Invalid email and password combination", "status_code": 400})
    answer = api.send(call())
    assert answer.outcome == "retry" and "Invalid email and password" in answer.reason
    assert fake.calls_to("ndr_action") == []


def test_wrong_password_is_reported_not_raised(fake, cache):
    api = ShiprocketApi(fake.base_url, EMAIL, "wrong", cache)
    answer = api.send(call())
    assert answer.outcome == "retry" and "login refused" in answer.reason


def test_ndr_action_uses_shiprocket_field_names(fake, api):
    fake.add_order("OL-100221", AWB)
    api.send(call(kind="return"))
    (sent,) = fake.calls_to("ndr_action")
    assert sent["path"] == f"/v1/external/ndr/{AWB}/action"
    assert set(sent["body"]) == {"action", "comments", "awb"} and sent["body"]["action"] == "return"


def test_comments_carry_date_words_sid_and_our_tag():
    text = ndr_comments(call(details="landmark: blue gate"))
    for part in ("Re-attempt on 2026-11-30", "kal aana", "SM" + "1" * 32, "landmark: blue gate", marker(7)):
        assert part in text


def test_address_body_has_every_field_shiprocket_requires():
    body = address_body(16161616, call("address", address={"line1": "12 MG Road", "line2": "", "landmark": "Near park",
                                                           "city": "Indore", "state": "Madhya Pradesh",
                                                           "pincode": "452001"}))
    assert body == {"order_id": 16161616, "shipping_customer_name": "Rohit Sharma", "shipping_phone": 9000000001,
                    "shipping_address": "12 MG Road", "shipping_address_2": "Near park", "shipping_city": "Indore",
                    "shipping_state": "Madhya Pradesh", "shipping_country": "India", "shipping_pincode": 452001}


def test_422_is_a_refusal_with_shiprocket_reason(fake, api):
    fake.add_order("OL-100221", AWB)
    fake.fail_next("ndr_action", 422, {"message": "Oops! Invalid Data.",
                                       "errors": {"action": ["Reattempt not allowed for this courier."]},
                                       "status_code": 422})
    answer = api.send(call())
    assert answer.outcome == "refused"
    assert answer.reason == "HTTP 422: Oops! Invalid Data. (action: Reattempt not allowed for this courier.)"


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_are_retried(fake, api, status):
    fake.add_order("OL-100221", AWB)
    fake.fail_next("ndr_action", status)
    assert api.send(call()).outcome == "retry"


def test_timeout_after_sending_is_unknown_not_retry(fake, api):
    fake.add_order("OL-100221", AWB)
    fake.delay_next("ndr_action", 2.0)
    answer = api.send(call())
    assert answer.outcome == "unknown" and "in time" in answer.reason
    assert len(fake.calls_to("ndr_action")) == 1


def test_nothing_listening_is_a_retry(cache):
    api = ShiprocketApi("http://127.0.0.1:9", EMAIL, PASSWORD, cache, timeout=(1.0, 1.0))
    assert api.send(call()).outcome == "retry"


def test_search_maps_our_order_id_including_shiprockets_suffix(fake, api):
    sr_id = fake.add_order("OL-100221_1")
    fake.add_order("OL-1002210")  # a longer id that merely starts the same
    assert api.find_order_id("OL-100221") == str(sr_id)
    assert api.find_order_id("OL-999999") is None


def test_cancel_sends_shiprocket_order_ids(fake, api):
    sr_id = fake.add_order("OL-100221")
    answer = api.send(call("cancel"))
    assert (answer.outcome, answer.external_order_id) == ("accepted", str(sr_id))
    assert fake.calls_to("cancel")[0]["body"] == {"ids": [sr_id]}


def test_confirm_reads_the_ndr_history_for_our_tag(fake, api):
    fake.add_order("OL-100221", AWB)
    assert api.confirm(call()) is False
    api.send(call())
    assert api.confirm(call()) is True
    assert api.confirm(call(request_id=99)) is False
    fake.fail_next("ndr", 503)
    assert api.confirm(call()) is None
