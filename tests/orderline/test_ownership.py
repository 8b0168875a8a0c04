"""Proof of owning an order placed from another phone, one candidate at a time, with failures counted in
Redis; and the one-time codes that confirm a change."""
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from orderline.clock import Clock
from orderline.errors import InvalidInput, OrderNotFound, SeveralProofs
from orderline.ownership import (
    ASKER_FAILURES, CODE_TRIES, ORDER_FAILURES, OneTimeCodes, code_from, order_key, proof_from, proves_ownership)
from orderline.ports import SendResult
from tests.support.values import NOW


@pytest.fixture
def order(services, demo):
    return services.orders.get(next(iter(demo)))


def wrong_last4(order):
    return "0000" if not order.customer.phone.endswith("0000") else "1111"


def test_last_four_digits_or_pincode_prove_it(order):
    assert proves_ownership(order, order.customer.phone[-4:]) and proves_ownership(order, order.address.pincode)


def test_anything_else_does_not(order):
    last4, pincode = order.customer.phone[-4:], order.address.pincode
    assert not proves_ownership(order, "")
    assert not proves_ownership(order, wrong_last4(order))
    assert not proves_ownership(order, pincode[:4])  # 4 digits are compared with the phone only
    for bad in (last4 + "00", order.customer.phone[-5:], order.customer.phone, "०००१", "४५२००१", last4 + pincode):
        assert not proves_ownership(order, bad)
    assert not proves_ownership(None, last4)  # no order: nothing proves it


def test_an_api_body_holds_exactly_one_candidate_and_the_sender():
    assert proof_from({"proof": "0001", "sender": "+919800000001"}) == ("0001", "+919800000001")
    for several in ({"proof": ["0001"], "sender": "x"}, {"proofs": ["0001", "0002"], "sender": "x"},
                    {"proof": "0001", "proofs": ["0002"], "sender": "x"}):
        with pytest.raises(SeveralProofs):
            proof_from(several)
    for bad in ({}, {"proof": 1, "sender": "x"}, {"proof": "x" * 21, "sender": "x"}, {"proof": "0001"},
                {"proof": "0001", "sender": ""}, ["0001"]):
        with pytest.raises(InvalidInput):
            proof_from(bad)


def test_five_failures_lock_an_order_for_everyone_but_its_own_number(services, order):
    guard = services.ownership
    for i in range(ORDER_FAILURES):
        assert guard.verify(order.order_id, wrong_last4(order), f"+9198000000{i:02d}").matched is False
    assert guard.locked_until(order.order_id) is not None
    # A sender with no failures of their own and the right answer: refused, nothing compared.
    verdict = guard.verify(order.order_id, order.customer.phone[-4:], "+919811111111")
    assert verdict.matched is False and verdict.refused is True
    ttl = services.redis.ttl(f"ownership:fail:order:{order_key(order.order_id)}")
    assert 0 < ttl <= 24 * 3600


def test_parallel_guesses_are_counted_before_any_is_compared(services, order):
    """A burst of guesses from many senders at once: only ORDER_FAILURES of them are ever judged."""
    guard = services.ownership
    guesses = [g for g in (f"{i:04d}" for i in range(40)) if g != order.customer.phone[-4:]][:30]
    with ThreadPoolExecutor(max_workers=10) as pool:
        verdicts = list(pool.map(lambda ig: guard.verify(order.order_id, ig[1], f"+9198100{ig[0]:05d}"),
                                 enumerate(guesses)))
    assert not any(v.matched for v in verdicts)
    assert sum(1 for v in verdicts if not v.refused) == ORDER_FAILURES


def test_a_right_answer_gives_its_count_back(services, order):
    guard = services.ownership
    for i in range(ORDER_FAILURES - 1):
        guard.verify(order.order_id, wrong_last4(order), f"+9198200000{i:02d}")
    for _ in range(3):  # the owner's relative, proving it again and again, never locks the order
        assert guard.verify(order.order_id, order.customer.phone[-4:], "+919833333333").matched
    assert guard.locked_until(order.order_id) is None
    assert guard.verify(order.order_id, wrong_last4(order), "+919844444444").refused is False  # the 5th failure


def test_respelling_the_order_number_buys_no_tries(services, order):
    digits = order.order_id.split("-")[-1]
    for n, ref in enumerate((order.order_id, digits, order.order_id.lower(), f"0{digits}", order.order_id.replace("-", ""))):
        services.ownership.verify(ref, wrong_last4(order), f"+9198000001{n:02d}")
    assert services.ownership.verify(digits, order.customer.phone[-4:], "+919800000200").refused


def test_a_sender_is_refused_across_orders_after_three_failures(services, demo):
    guard, refs = services.ownership, list(demo)
    for ref in refs[:ASKER_FAILURES]:
        order = services.orders.get(ref)
        assert not guard.verify(ref, wrong_last4(order), "+919822222222").refused
    other = services.orders.get(refs[ASKER_FAILURES])
    assert guard.verify(other.order_id, other.customer.phone[-4:], "+919822222222").refused
    assert guard.verify(other.order_id, other.customer.phone[-4:], "+919833333333").matched  # others unaffected
    assert guard.locked_until(other.order_id) is None


def test_a_made_up_order_counts_and_locks_like_a_real_one(services, order):
    guard = services.ownership
    answers = {}
    for ref in (order.order_id, "OL-999999"):
        answers[ref] = [guard.verify(ref, "1234", f"+91980000{n:04d}{len(ref)}") for n in range(ORDER_FAILURES + 1)]
    assert answers[order.order_id] == answers["OL-999999"]
    assert answers["OL-999999"][-1].refused


class Outbox:
    """The messenger the codes are handed to: what it was asked to send."""

    def __init__(self):
        self.sent = []

    def __call__(self, phone, text, template):
        self.sent.append((phone, text, template))
        return SendResult(len(self.sent), "queued")


def test_a_code_goes_to_the_orders_own_phone_hashed_and_works_once(services, order):
    outbox = Outbox()
    codes = OneTimeCodes(services.redis, services.orders, services.clock, outbox, b"pepper")
    assert codes.send(order.order_id).status == "queued"
    (phone, text, _), = outbox.sent
    code = next(w for w in text.split() if w.isdigit() and len(w) == 6)
    assert phone == order.customer.phone
    stored = services.redis.hgetall(f"otp:{order.order_id}")
    assert code.encode() not in b"".join(stored.values())  # only the keyed hash is kept
    assert codes.check(order.order_id, code).matched
    assert not codes.check(order.order_id, code).matched  # used up


def test_three_wrong_codes_kill_it(services, order):
    outbox = Outbox()
    codes = OneTimeCodes(services.redis, services.orders, services.clock, outbox, b"pepper")
    codes.send(order.order_id)
    code = next(w for w in outbox.sent[0][1].split() if w.isdigit() and len(w) == 6)
    wrong = "000000" if code != "000000" else "111111"
    lefts = [codes.check(order.order_id, wrong).tries_left for _ in range(CODE_TRIES)]
    assert lefts == [2, 1, 0]
    assert codes.check(order.order_id, code) == codes.check(order.order_id, wrong)  # dead: the right one fails too
    assert not services.redis.exists(f"otp:{order.order_id}")


def test_a_code_expires_after_ten_minutes(services, order):
    now = [NOW]
    clock = Clock(services.clock.tz, lambda: now[0])
    outbox = Outbox()
    codes = OneTimeCodes(services.redis, services.orders, clock, outbox, b"pepper")
    codes.send(order.order_id)
    code = next(w for w in outbox.sent[0][1].split() if w.isdigit() and len(w) == 6)
    now[0] = NOW + timedelta(minutes=10, seconds=1)
    assert not codes.check(order.order_id, code).matched
    assert 0 < services.redis.ttl(f"otp:{order.order_id}") or not services.redis.exists(f"otp:{order.order_id}")


def test_codes_per_order_are_bounded_and_unknown_orders_refused(services, order):
    outbox = Outbox()
    codes = OneTimeCodes(services.redis, services.orders, services.clock, outbox, b"pepper", per_window=2)
    assert [codes.send(order.order_id).status for _ in range(3)] == ["queued", "queued", "refused"]
    with pytest.raises(OrderNotFound):
        codes.send("OL-999999")
    assert codes.check("OL-999999", "123456").matched is False


def test_code_from_an_api_body():
    assert code_from({"code": "123456"}) == "123456"
    for bad in ({}, {"code": 123456}, {"code": ["1", "2"]}, {"code": "1" * 21}, ["123456"]):
        with pytest.raises(InvalidInput):
            code_from(bad)
