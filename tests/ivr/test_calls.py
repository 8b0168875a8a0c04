"""Whole calls through the IVR with a scripted caller: real DB, real Redis, fake Twilio."""
from __future__ import annotations

import pytest

from sqlalchemy import select

from orderline.demo import demo_phone
from orderline.models import Customer, Message
from tests.support.ivr_caller import UNKNOWN, HangUp, Keys, Silence, Speech

ASHA, ROHIT, PRIYA, SNEHA = demo_phone(0), demo_phone(1), demo_phone(2), demo_phone(3 + 1)


def escalations(services):
    return services.escalations.list("active")


def test_known_caller_is_greeted_by_name_with_open_order_then_hears_status(caller, demo):
    call = caller(ASHA).call([Keys("1")])
    greeting = call.docs[0].text
    assert greeting.startswith("Hello Asha, welcome to Orderline.")
    # Her most recent open order is the one placed today.
    assert "Order O L 1 0 0 2 2 1 is placed and waiting to be confirmed." in greeting
    assert call.said[0].language == "en-IN"
    status = call.docs[1]
    assert status.kind == "keypad" and status.params["Digits"] == "1"
    assert "Order O L 1 0 0 2 2 1 is placed" in status.text
    assert "Is there anything else?" in status.text
    assert call.ended == "caller_hung_up"


def test_known_caller_asks_about_another_own_order_by_keypad(caller, demo):
    call = caller(ASHA).call([Keys("8"), Keys("100201#"), Keys("1")])
    assert call.docs[1].params == {**call.docs[1].params, "Digits": "8"}
    assert "Please enter your order number" in call.docs[1].text
    assert call.docs[2].params["Digits"] == "100201"
    assert "You entered order 1 0 0 2 0 1. If that is right, press 1." in call.docs[2].text
    # Her own order (caller ID matches): no verification, straight to the facts.
    facts = call.docs[3].text
    assert "Order O L 1 0 0 2 0 1 is running late." in facts
    assert "now expects to deliver it" in facts


def test_unknown_caller_gets_bilingual_welcome_and_passes_verification_by_phone_digits(caller, demo):
    call = caller(UNKNOWN).call([Keys("1"), Keys("100241#"), Keys("1"), Keys("0003#")])
    welcome = call.docs[0]
    assert {s.language for s in welcome.said} == {"en-IN", "hi-IN"}
    assert "Welcome to Orderline" in welcome.text
    assert "Please enter your order number" in call.docs[1].text
    assert "last 4 digits of the phone number on this order" in call.docs[3].text
    # Nothing about the order was said before verification.
    before = " ".join(d.text for d in call.docs[:4])
    assert "out for delivery" not in before and "Priya" not in before
    assert "Order O L 1 0 0 2 4 1 is out for delivery today" in call.docs[4].text


def test_unknown_caller_passes_verification_with_pincode(caller, demo):
    call = caller(UNKNOWN).call([Keys("4"), Keys("100241#"), Keys("1"), Keys("700016#")])
    assert "cash on delivery" in call.docs[4].text


def test_unknown_caller_failing_verification_three_times_hears_nothing_and_gets_a_person(caller, demo, services):
    call = caller(UNKNOWN).call([Keys("1"), Keys("100241#"), Keys("1"), Keys("1111#"), Keys("2222#"), Keys("3333#")])
    everything = call.text
    assert "That did not match." in call.docs[4].text
    queued = next(d for d in call.docs if "<Enqueue" in d.body)
    assert "Sorry, I could not verify this order, so I can't share its details." in queued.text
    assert "out for delivery" not in everything and "Priya" not in everything and "rupees" not in everything
    assert call.ended == "enqueue" and call.queue == "support"
    esc = escalations(services)
    assert len(esc) == 1 and esc[0].channel == "voice" and esc[0].order_id is None
    assert "could not verify order 100241" in esc[0].note
    # The verification digits never reach the transcript.
    with services.sessions() as s:
        texts = [m.text for m in s.scalars(select(Message)).all()]
    assert not any("1111" in t or "2222" in t for t in texts)


def test_reschedule_by_keypad_changes_the_order(caller, demo, services):
    # Rohit's delivery failed; his stored language is Hindi.
    call = caller(ROHIT).call([Keys("3"), Keys("2"), Keys("1")])
    greeting = call.docs[0]
    assert greeting.said[0].language == "hi-IN" and greeting.said[0].voice == "Polly.Aditi"
    assert "नमस्ते Rohit" in greeting.text
    offer = call.docs[1].text
    assert "कल, रविवार 29 नवंबर के लिए 1 दबाइए" in offer
    assert "सोमवार 30 नवंबर के लिए 2 दबाइए" in offer
    assert "सोमवार 30 नवंबर" in call.docs[2].text
    assert "हो गया। ऑर्डर O L 1 0 0 2 3 1 अब सोमवार 30 नवंबर को डिलीवर होगा।" in call.docs[3].text
    order = services.orders.get("OL-100231")
    assert order.shipment.rescheduled_for.isoformat() == "2026-11-30"


def test_reschedule_refused_by_the_rules_says_why(caller, demo):
    call = caller(ASHA).call([Keys("3")])  # her open order is only placed
    assert ("I can't reschedule order O L 1 0 0 2 2 1, because the order has not shipped yet, "
            "so there is no delivery to move.") in call.docs[1].text
    assert "To talk to a person, press 0." in call.docs[1].text


@pytest.mark.parametrize("extra_settings", [{"templates": (("address_change", "HX" + "a" * 32),)}], indirect=True)
def test_address_change_sends_whatsapp_template(caller, demo, fake_twilio):
    call = caller(ASHA).call([Keys("2")])
    assert "I have sent a WhatsApp message to the phone number on order O L 1 0 0 2 2 1" in call.docs[1].text
    sent = fake_twilio.wait_for(ASHA, 1)
    assert len(sent) == 1 and sent[0]["content_sid"] == "HX" + "a" * 32 and sent[0]["body"] is None


def test_address_change_without_template_outside_window_is_honest(caller, demo, fake_twilio):
    call = caller(ASHA).call([Keys("2")])
    assert "Sorry, I could not send the WhatsApp message" in call.docs[1].text
    assert "To talk to a person, press 0." in call.docs[1].text
    assert fake_twilio.sent_to(ASHA) == []


def test_address_change_forbidden_after_shipping(caller, demo, fake_twilio):
    call = caller(ASHA).call([Keys("8"), Keys("100201#"), Keys("1"), Keys("2")])
    assert ("I can't change the address of order O L 1 0 0 2 0 1, because the order has already shipped, "
            "so the courier cannot change its address.") in call.docs[-1].text
    assert fake_twilio.sent_to(ASHA) == []


def test_payments_prepaid_refund(caller, demo):
    call = caller(SNEHA).call([Keys("4")])
    text = call.docs[1].text
    assert "This order was paid online" in text
    assert "has been started. It should reach you by Wednesday 2 December." in text


def test_failed_delivery_status_gives_reason_and_options(caller, demo):
    call = caller(ROHIT).call([Keys("9"), Keys("1")])
    text = call.docs[2].text
    assert "The courier could not deliver order O L 1 0 0 2 3 1. The reason given was: Customer not available at address." in text
    assert "To choose a new delivery day, press 3. To talk to a person, press 0." in text


def test_silent_caller_is_reprompted_shorter_then_queued(caller, demo, services):
    call = caller(ASHA).call([Silence(), Silence(), Silence()])
    kinds = [d.kind for d in call.docs]
    assert kinds[:4] == ["incoming", "redirect", "redirect", "redirect"]
    lengths = [len(d.text) for d in call.docs[:3]]
    assert lengths[0] > lengths[1] > lengths[2]
    assert call.ended == "enqueue" and call.queue == "support"
    assert "connecting you to a person" in call.docs[3].text
    assert "You are number 2 in the queue" in call.hold.text
    esc = escalations(services)
    assert len(esc) == 1 and esc[0].channel == "voice" and esc[0].call_sid and esc[0].status == "open"
    assert "no usable input" in esc[0].note


def test_zero_puts_the_caller_through_to_a_person(caller, demo, services):
    c = caller(ASHA)
    call = c.call([Keys("1"), Keys("0")])
    assert call.ended == "enqueue"
    [esc] = escalations(services)
    assert esc.call_sid == c.call_sid and esc.order_id == "OL-100221" and esc.reason == "delivery"
    assert esc.conversation_state == "waiting_for_agent" and esc.status == "open"
    assert "caller: [pressed 1: status]" in esc.note
    assert "ended: completed" in esc.note  # the status callback noted the end of the call


def test_hindi_switch_is_remembered_for_the_customer(caller, demo, services):
    call = caller(ASHA).call([Keys("9")])
    assert "अब से मैं हिंदी में बात करूँगी" in call.docs[1].text
    assert all(s.language == "hi-IN" for s in call.docs[1].said)
    menu_gather = call.docs[1].body
    assert 'language="hi-IN"' in menu_gather and 'input="dtmf speech"' in menu_gather
    with services.sessions() as s:
        assert s.scalars(select(Customer.language).where(Customer.phone == ASHA)).one() == "hi"
    again = caller(ASHA).call([])
    assert "नमस्ते Asha" in again.docs[0].text


def test_transcript_holds_prompts_and_inputs_on_the_voice_channel(caller, demo, services):
    caller(ASHA).call([Keys("1")])
    history = services.conversations.transcript(ASHA)
    voice = [m for m in history if m["channel"] == "voice"]
    assert any(m["direction"] == "in" and m["text"] == "[pressed 1: status]" for m in voice)
    assert any(m["direction"] == "out" and m["author"] == "ivr" and m["status"] == "spoken"
               and "Hello Asha" in m["text"] for m in voice)
    assert any(m["direction"] == "note" and "ended: completed" in m["text"] for m in voice)


def test_status_callback_closes_the_session(caller, demo, services):
    c = caller(ASHA)
    c.call([Keys("1")])
    assert services.redis.get(f"ivr:call:{c.call_sid}") is None
    notes = [m for m in services.conversations.transcript(ASHA) if m["direction"] == "note"]
    assert "outcome self_served" in notes[-1]["text"]


def test_rasa_down_still_answers_with_keypad_menu_and_a_person(caller, demo, services):
    call = caller(ASHA).call([Speech("where is my order"), Keys("0")])
    reply = call.docs[1]
    assert reply.kind == "speech"
    assert "can't answer spoken questions right now. Please use the keypad." in reply.text
    assert "To talk to a person, press 0." in reply.text
    assert call.ended == "enqueue"


def test_hang_up_mid_menu_closes_cleanly(caller, demo):
    call = caller(ASHA).call([HangUp()])
    assert call.ended == "caller_hung_up"
