"""Proof of ownership that can't be guessed, attacked through the real endpoints: the order API the
Rasa actions call (bearer token) and the phone line (requests signed as Twilio signs them).

The chat side of the same attacks, through WhatsApp, Rasa and the action server, is in
test_ownership_live.py. See docs/security.md, "Ownership".
"""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from ivr.prompts import t
from orderline.clock import Clock
from orderline.demo import demo_phone
from orderline.settings import Settings
from tests.support.codes import latest_code, other_code
from tests.support.fake_rasa import SECRET as RASA_SECRET, TOKEN as RASA_TOKEN
from tests.support.ivr_caller import ATTESTED, Keys, ScriptedCaller, flask_transport
from tests.support.values import API_TOKEN, NOW, SHIPROCKET_TOKEN

TWILIO_TOKEN, PUBLIC = "ownership-test-twilio-token", "https://voice.ownership.test"
ROHIT = demo_phone(1)  # OL-100231: delivery failed, so its delivery can be rescheduled
ATTACKER = "+919812345678"  # a stranger with no orders
VICTIM_ORDER = "OL-100231"


@pytest.fixture
def now():
    return [NOW]


@pytest.fixture
def clock(now):
    """The business clock, moved by the tests (a code's 10 minutes)."""
    return Clock(ZoneInfo("Asia/Kolkata"), lambda: now[0])


@pytest.fixture
def settings(db_url, redis_url):
    # No Twilio account: messages go to the outbox. The code reaches a number outside WhatsApp's
    # 24-hour window as its template.
    return Settings(database_url=db_url, redis_url=redis_url, api_token=API_TOKEN,
                    shiprocket_webhook_token=SHIPROCKET_TOKEN, secret_key="test-secret",
                    rasa_url="http://127.0.0.1:9", rasa_channel_secret=RASA_SECRET, rasa_auth_token=RASA_TOKEN,
                    twilio_auth_token=TWILIO_TOKEN, public_base_url=PUBLIC, orderline_env="development",
                    templates=(("ownership_code", "HX" + "c" * 32),))


def verify(client, auth, ref, body):
    resp = client.post(f"/api/v1/orders/{ref}/verify", json=body, headers=auth)
    return resp.status_code, resp.get_json()


def right_last4(services, ref=VICTIM_ORDER):
    return services.orders.get(ref).customer.phone[-4:]


def wrong_last4(services, ref=VICTIM_ORDER):
    return "0000" if right_last4(services, ref) != "0000" else "1111"


# -- one candidate per attempt -----------------------------------------------------------------
def test_a_list_of_guesses_is_refused_before_anything_is_compared(client, auth, demo, services):
    every = [f"{n:04d}" for n in range(100)] + [right_last4(services)]
    for body in ({"proofs": every, "sender": ATTACKER}, {"proof": every, "sender": ATTACKER},
                 {"proof": right_last4(services), "proofs": every, "sender": ATTACKER}):
        status, answer = verify(client, auth, VICTIM_ORDER, body)
        assert (status, answer["error"]) == (400, "one_proof_only") and "matched" not in answer, answer
    assert list(services.redis.scan_iter("ownership:*")) == []  # nothing counted: nothing was compared
    # The same call with one candidate is what the API takes.
    assert verify(client, auth, VICTIM_ORDER, {"proof": right_last4(services), "sender": ATTACKER}) == \
        (200, {"matched": True, "refused": False})


# -- failures counted per order and per sender ---------------------------------------------------
def test_distributed_guessing_on_one_order_locks_it_after_five(client, auth, demo, services):
    for n in range(5):
        sender = f"+9198000000{n:02d}"  # five senders, one guess each: under their own limit
        assert verify(client, auth, VICTIM_ORDER, {"proof": f"{n:04d}" if f"{n:04d}" != right_last4(services)
                                                  else "9999", "sender": sender})[1]["matched"] is False
    # A sixth stranger with the right answer is refused, and so is a wrong one: the same answer.
    right = verify(client, auth, VICTIM_ORDER, {"proof": right_last4(services), "sender": "+919800000099"})
    wrong = verify(client, auth, VICTIM_ORDER, {"proof": wrong_last4(services), "sender": "+919800000098"})
    assert right == wrong == (200, {"matched": False, "refused": True})
    assert services.ownership.locked_until(VICTIM_ORDER) is not None
    # Other orders are not locked.
    other = "OL-100221"
    assert verify(client, auth, other, {"proof": right_last4(services, other), "sender": "+919800000097"})[1] == \
        {"matched": True, "refused": False}


def test_one_sender_guessing_across_orders_is_refused_after_three(client, auth, demo, services):
    refs = ["OL-100201", "OL-100221", VICTIM_ORDER, "OL-100241"]
    for ref in refs[:3]:
        assert verify(client, auth, ref, {"proof": wrong_last4(services, ref), "sender": ATTACKER})[1] == \
            {"matched": False, "refused": False}
    assert verify(client, auth, refs[3], {"proof": right_last4(services, refs[3]), "sender": ATTACKER})[1] == \
        {"matched": False, "refused": True}


# -- no existence oracle -----------------------------------------------------------------------------
def test_a_made_up_order_answers_exactly_like_a_real_one(client, auth, demo, services):
    real, made_up = [], []
    for n in range(6):  # before and after the lock
        real.append(verify(client, auth, VICTIM_ORDER, {"proof": wrong_last4(services), "sender": f"+91981000{n:04d}"}))
        made_up.append(verify(client, auth, "OL-999999", {"proof": wrong_last4(services),
                                                          "sender": f"+91982000{n:04d}"}))
    assert real == made_up
    assert real[0] == (200, {"matched": False, "refused": False}) and real[-1][1]["refused"] is True


# -- one-time codes ----------------------------------------------------------------------------------
def test_a_guessed_code_dies_after_three_tries(client, auth, demo, services):
    assert client.post(f"/api/v1/orders/{VICTIM_ORDER}/codes", json={}).status_code == 401  # bearer, as ever
    sent = client.post(f"/api/v1/orders/{VICTIM_ORDER}/codes", json={"channel": "chat"}, headers=auth)
    assert sent.status_code == 202 and sent.get_json()["sent"] is True
    assert "code" not in sent.get_json() and "000000" not in sent.get_data(as_text=True)
    code = latest_code(services, ROHIT)  # on the order's own WhatsApp, not in the answer
    assert code is not None

    def check(candidate):
        return client.post(f"/api/v1/orders/{VICTIM_ORDER}/codes/check", json={"code": candidate},
                           headers=auth).get_json()

    assert [check(other_code(code)) for _ in range(3)] == [
        {"matched": False, "tries_left": 2}, {"matched": False, "tries_left": 1}, {"matched": False, "tries_left": 0}]
    assert check(code) == {"matched": False, "tries_left": 0}  # dead: the right code no longer works


def test_a_code_expires_after_ten_minutes(client, auth, demo, services, now):
    client.post(f"/api/v1/orders/{VICTIM_ORDER}/codes", json={}, headers=auth)
    code = latest_code(services, ROHIT)
    now[0] = NOW + timedelta(minutes=10, seconds=1)
    assert client.post(f"/api/v1/orders/{VICTIM_ORDER}/codes/check", json={"code": code},
                       headers=auth).get_json() == {"matched": False, "tries_left": 0}
    client.post(f"/api/v1/orders/{VICTIM_ORDER}/codes", json={}, headers=auth)  # a fresh one works
    assert client.post(f"/api/v1/orders/{VICTIM_ORDER}/codes/check", json={"code": latest_code(services, ROHIT)},
                       headers=auth).get_json()["matched"] is True


# -- the phone line: a spoofed caller ID changes nothing without the code ---------------------------
def caller(client, phone, verstat):
    return ScriptedCaller(flask_transport(client), TWILIO_TOKEN, PUBLIC, phone, verstat=verstat)


@pytest.mark.parametrize("verstat", [None, "TN-Validation-Passed-B", "TN-Validation-Passed-C", "TN-Validation-Failed"])
def test_a_spoofed_caller_id_cannot_reschedule_without_the_code(client, demo, services, verstat):
    """The attacker calls showing Rohit's number, without full attestation, and guesses the code."""
    call = caller(client, ROHIT, verstat).call([Keys("3"), Keys("000000#"), Keys("123456#"), Keys("999999#")])
    # Rohit's language is Hindi: the line speaks it to his number.
    assert t("hi", "code") in call.docs[1].text and call.docs[2].url.endswith("/twilio/voice/order/code")
    assert t("hi", "code_wrong") in call.docs[2].text and t("hi", "code_wrong") in call.docs[3].text
    assert t("hi", "code_failed") in call.docs[4].text
    assert all("/twilio/voice/reschedule" not in d.url for d in call.docs)  # no delivery day was ever offered
    order = services.orders.get(VICTIM_ORDER)
    assert order.shipment.rescheduled_for is None
    # The code went to the order's own WhatsApp number (where the real Rohit would read it).
    assert latest_code(services, ROHIT) is not None


def test_the_code_from_the_orders_whatsapp_lets_an_unattested_caller_change_it(client, demo, services):
    def script():  # the inputs are taken as the call reaches each question, like a caller's
        yield Keys("3")
        yield Keys(f"{latest_code(services, ROHIT)}#")  # read off the order's own WhatsApp
        yield Keys("2")
        yield Keys("1")

    call = caller(client, ROHIT, "TN-Validation-Passed-B").call(script())
    assert t("hi", "code") in call.docs[1].text
    assert call.docs[3].url.endswith("/twilio/voice/reschedule")  # after the code: the delivery days
    assert services.orders.get(VICTIM_ORDER).shipment.rescheduled_for is not None


def test_an_attested_caller_id_changes_its_own_order_without_a_code(client, demo, services):
    call = caller(client, ROHIT, ATTESTED).call([Keys("3"), Keys("2"), Keys("1")])
    assert t("hi", "code") not in call.text
    assert services.orders.get(VICTIM_ORDER).shipment.rescheduled_for is not None
    assert latest_code(services, ROHIT) is None


def test_a_stranger_on_the_phone_hears_the_same_for_a_real_and_a_made_up_order(client, demo, services):
    script = [Keys("1"), Keys("{ref}#"), Keys("1"), Keys("1111#"), Keys("2222#"), Keys("3333#")]
    heard = {}
    for ref, phone in (("100231", "+919812300001"), ("999999", "+919812300002")):
        call = caller(client, phone, ATTESTED).call([Keys(k.digits.format(ref=ref)) for k in script])
        heard[ref] = [d.text.replace(" ".join(ref), "<ref>") for d in call.docs]
    assert heard["100231"] == heard["999999"]
    assert "That did not match." in " ".join(heard["999999"])
