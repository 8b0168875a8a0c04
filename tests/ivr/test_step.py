"""The call flow as a pure function: menus and transitions, with no database, Redis or HTTP."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from ivr.session import CallSession, Menu
from ivr.step import step, wants
from ivr.turn import (
    AddressChangeSent, Arrived, Ask, AskAssistant, AssistantAnswered, AssistantDown, Enqueue, Escalate, Facts,
    Gathered, Goodbye, LeftQueue, RecordInput, RecordNote, RememberLanguage, Reschedule, RescheduleDayGone,
    Rescheduled, RescheduleFailed, RescheduleRefused, SendAddressChange, Silence, Turn, Wants, SendCode, CodeSent)

TODAY = date(2026, 11, 28)  # a Saturday
ASHA = "+919000000001"
STRANGER = "+919812345678"


def order(**kw: Any) -> dict[str, Any]:
    """`orderline.present.order_dict`'s shape, as much of it as the flow reads."""
    base = {"order_id": "OL-100201", "status": "in_transit", "amount": 1299.0,
            "customer": {"name": "Asha Verma", "phone": ASHA, "language": "en"},
            "payment": {"method": "cod", "status": "pending", "refund": None},
            "shipment": {"courier": "Delhivery", "expected_date": "2026-11-29", "promised_date": "2026-11-29",
                         "rescheduled_for": None, "is_delayed": False, "ndr_reason": None, "delivered_at": None},
            "allowed": {"change_address": False, "reschedule": True}}
    return {**base, **kw}


PLACED = order(order_id="OL-100221", status="placed", shipment=None,
               allowed={"change_address": True, "reschedule": False})
DELIVERED = order(order_id="OL-100199", status="delivered", allowed={"change_address": False, "reschedule": False})


def facts(**kw: Any) -> Facts:
    return Facts(**{"today": TODAY, "in_hours": True, **kw})


def call(**kw: Any) -> CallSession:
    return CallSession(**{"call_sid": "CA1", "phone": ASHA, **kw})


def at_menu(**kw: Any) -> CallSession:
    """Asha, known by an attested caller ID (STIR/SHAKEN A), at the main menu with her order OL-100201."""
    return call(**{"customer_name": "Asha Verma", "order_id": "OL-100201", "attested": True, **kw})


def said(turn: Turn) -> str:
    prompt = turn.prompt
    assert prompt is not None, f"expected a prompt, got the request {turn.request}"
    lines = [line if isinstance(line, str) else line[1] for line in prompt.lines]
    return " ".join([*lines, getattr(prompt, "prompt", "")]).strip()


def inputs(turn: Turn) -> list[tuple[str, str | None]]:
    return [(e.text, e.intent) for e in turn.effects if isinstance(e, RecordInput)]


def escalation(turn: Turn) -> Escalate:
    [esc] = [e for e in turn.effects if isinstance(e, Escalate)]
    return esc


def press(session: CallSession, at: Menu, digits: str, f: Facts | None = None) -> Turn:
    return step(session, Gathered(at, digits), f or facts())


# -- arrival -------------------------------------------------------------------------------------
def test_known_caller_is_greeted_in_their_language_and_hears_their_open_order():
    turn = step(call(), Arrived(), facts(caller_orders=(DELIVERED, PLACED)))
    assert turn.session.customer_name == "Asha Verma" and turn.session.order_id == "OL-100221"
    assert said(turn).startswith("Hello Asha, welcome to Orderline. Order O L 1 0 0 2 2 1 is placed")
    assert isinstance(turn.prompt, Ask) and turn.prompt.menu is Menu.MAIN
    assert turn.effects == (RecordNote(ASHA, "Incoming call (CA1)"),)
    hindi = step(call(), Arrived(), facts(caller_orders=(order(customer={**PLACED["customer"], "language": "hi"}),)))
    assert hindi.session.language == "hi" and said(hindi).startswith("नमस्ते Asha")


def test_a_customer_with_nothing_open_is_greeted_and_their_latest_order_is_kept():
    turn = step(call(), Arrived(), facts(caller_orders=(DELIVERED,)))
    assert turn.session.order_id == "OL-100199"
    assert said(turn).startswith("Hello Asha, welcome to Orderline. For order status, press 1.")


def test_an_unknown_caller_hears_both_languages_and_nothing_is_recorded_without_caller_id():
    turn = step(call(phone=None), Arrived(), facts())
    assert [lang for lang, _ in turn.prompt.lines] == ["en", "hi"]
    assert turn.session.order_id is None and turn.session.language == "en"
    assert turn.effects == ()
    assert wants(call(), Arrived()) == Wants(caller_orders=True)


# -- the main menu -------------------------------------------------------------------------------
def test_status_of_the_callers_own_order_then_back_to_a_short_menu():
    session = at_menu()
    assert wants(session, Gathered(Menu.MAIN, "1")) == Wants(order="OL-100201")
    turn = press(session, Menu.MAIN, "1", facts(order=order()))
    assert inputs(turn) == [("[pressed 1: status]", "order_status")]
    assert "Order O L 1 0 0 2 0 1 is on its way with Delhivery, arriving tomorrow" in said(turn)
    assert said(turn).endswith("Is there anything else? Press 1 for status, 2 for address, 3 to reschedule, "
                               "4 for payments, 0 for a person, or tell me what you need.")
    assert turn.session.outcome == "self_served" and turn.session.intent == "status"
    assert turn.session.log == ("caller: [pressed 1: status]",)


def test_a_choice_without_a_verified_order_asks_for_the_order_number():
    turn = press(call(), Menu.MAIN, "2")
    assert turn.session.menu is Menu.ORDER and turn.session.intent == "address"
    assert said(turn) == "Please enter your order number on the keypad, then press hash."
    assert wants(call(), Gathered(Menu.MAIN, "2")) == Wants()


def test_eight_forgets_the_order_and_asks_for_another():
    turn = press(at_menu(), Menu.MAIN, "8")
    assert turn.session.order_id is None and turn.session.menu is Menu.ORDER
    assert inputs(turn) == [("[pressed 8: another order]", "order_status")]


def test_nine_switches_language_and_remembers_it_for_the_customer():
    turn = press(at_menu(), Menu.MAIN, "9")
    assert turn.session.language == "hi" and turn.prompt.lang == "hi"
    assert said(turn).startswith("अब से मैं हिंदी में बात करूँगी")
    assert turn.effects[-1] == RememberLanguage(ASHA, "hi")
    back = press(turn.session, Menu.MAIN, "9")
    assert back.session.language == "en" and back.effects[-1] == RememberLanguage(ASHA, "en")


def test_zero_in_hours_queues_the_caller_with_an_escalation():
    turn = press(at_menu(intent="payments"), Menu.MAIN, "0")
    assert isinstance(turn.prompt, Enqueue)
    assert said(turn) == "I'm connecting you to a person. Please stay on the line."
    assert turn.session.menu is Menu.QUEUE and turn.session.outcome == "queued"
    esc = escalation(turn)
    assert (esc.phone, esc.reason, esc.order_id, esc.call_sid, esc.callback) == (ASHA, "payments", "OL-100201",
                                                                                   "CA1", False)
    assert esc.note == "Voice call CA1. caller: [pressed 0: a person]"
    assert inputs(turn) == [("[pressed 0: a person]", "human_handoff")]


def test_zero_after_hours_offers_a_call_back_first():
    turn = press(at_menu(), Menu.MAIN, "0", facts(in_hours=False))
    assert isinstance(turn.prompt, Ask) and turn.prompt.menu is Menu.AFTER_HOURS
    assert "To get a call back when we open, press 1." in said(turn)
    assert not any(isinstance(e, Escalate) for e in turn.effects)


def test_speech_goes_to_the_assistant_before_anything_is_said():
    turn = step(at_menu(), Gathered(Menu.MAIN, speech="where is my order"), facts())
    assert turn.prompt is None and turn.effects == ()
    # The call's own conversation in the assistant, never the caller ID's (that is WhatsApp's).
    assert turn.request == AskAssistant(ASHA, "voice:CA1", "where is my order", "en")
    assert turn.session.log == ("caller: where is my order",)
    anonymous = step(call(phone=None), Gathered(Menu.MAIN, speech="hello"), facts())
    assert anonymous.request.sender == "voice:CA1"


def test_the_assistants_answer_is_made_speakable():
    answer = AssistantAnswered("where is my order", ("Your order *OL-100201* is on its way 🚚", ""), "bot", "bot")
    turn = step(at_menu(), answer, facts())
    assert said(turn).startswith("Your order O L 1 0 0 2 0 1 is on its way. Is there anything else?")
    assert turn.session.menu is Menu.MAIN
    silent = step(at_menu(), replace(answer, texts=()), facts())
    assert said(silent).startswith("Sorry, I don't have an answer for that.")


def test_an_assistant_handing_off_puts_the_caller_in_the_queue():
    answer = AssistantAnswered("talk to a person", ("Connecting you to our team.",), "bot", "waiting_for_agent")
    turn = step(at_menu(), answer, facts())
    assert isinstance(turn.prompt, Enqueue)
    assert said(turn) == "Connecting you to our team I'm connecting you to a person. Please stay on the line."
    assert "assistant handed off after: talk to a person" in escalation(turn).note


def test_assistant_down_falls_back_to_the_keypad():
    turn = step(at_menu(menu=Menu.ORDER, attempts=1), AssistantDown(), facts())
    assert turn.session.menu is Menu.MAIN and turn.session.attempts == 0
    assert said(turn).startswith("Sorry, I can't answer spoken questions right now. Please use the keypad.")


# -- no input, no match --------------------------------------------------------------------------
def test_silence_reprompts_shorter_twice_then_a_person():
    session, texts = at_menu(), []
    for _ in range(2):
        turn = step(session, Silence(), facts())
        session = turn.session
        texts.append(said(turn))
    assert texts == ["Press 1 for status, 2 for address, 3 to reschedule, 4 for payments, 0 for a person, "
                     "or tell me what you need.", "Press 1 for status, or 0 for a person."]
    turn = step(session, Silence(), facts())
    assert isinstance(turn.prompt, Enqueue)
    assert "no usable input at 'menu' after 2 reprompts" in escalation(turn).note
    assert inputs(turn) == [("[no input]", None)]


def test_unmatched_keys_are_recorded_and_reprompted_at_the_same_menu():
    turn = press(call(menu=Menu.VERIFY, pending_order="OL-100241"), Menu.VERIFY, "")
    assert said(turn) == ("Sorry, I didn't catch that. Enter the last 4 digits of the phone number on the order, "
                          "or its pincode, then hash.")
    assert turn.session.attempts == 1 and inputs(turn) == []
    odd = press(at_menu(), Menu.MAIN, "7")
    assert inputs(odd) == [("[pressed 7]", None)] and said(odd).startswith("Sorry, I didn't catch that.")


def test_a_new_menu_counts_silence_afresh():
    turn = press(at_menu(attempts=2), Menu.MAIN, "8")
    assert turn.session.menu is Menu.ORDER and turn.session.attempts == 0


def test_silence_after_hours_queues_the_caller_anyway():
    turn = step(at_menu(menu=Menu.AFTER_HOURS, intent="payments"), Silence(), facts(in_hours=False))
    assert isinstance(turn.prompt, Enqueue) and escalation(turn).reason == "payments"


# -- an order by keypad, and proving it ------------------------------------------------------------
def test_keyed_order_number_is_read_back_before_anything_else():
    turn = press(call(menu=Menu.ORDER), Menu.ORDER, "100241")
    assert turn.session.pending_order == "100241" and turn.session.menu is Menu.CONFIRM
    assert said(turn) == "You entered order 1 0 0 2 4 1. If that is right, press 1. To enter it again, press 2."
    assert wants(turn.session, Gathered(Menu.CONFIRM, "1")) == Wants(order="100241", proof_by_caller_id=True)
    again = press(turn.session, Menu.CONFIRM, "2")
    assert again.session.menu is Menu.ORDER and inputs(again) == [("[pressed 2: enter again]", None)]


def test_the_callers_own_order_needs_no_verification():
    session = call(menu=Menu.CONFIRM, pending_order="100201", intent="status")
    turn = press(session, Menu.CONFIRM, "1", facts(order=order(), owner_proved=True))
    assert turn.session.order_id == "OL-100201" and turn.session.pending_order is None
    assert "order OL-100201 verified" in turn.session.log
    assert "is on its way with Delhivery" in said(turn)


def test_someone_elses_order_is_not_described_until_proved():
    session = call(phone=STRANGER, menu=Menu.CONFIRM, pending_order="100201", intent="status")
    turn = press(session, Menu.CONFIRM, "1", facts(order=order()))
    assert turn.session.menu is Menu.VERIFY and turn.session.pending_order == "100201"
    assert turn.session.order_id is None
    assert "Delhivery" not in said(turn) and "Asha" not in said(turn)
    assert wants(turn.session, Gathered(Menu.VERIFY, "0001#")) == Wants(order="100201", proof_digits="0001")
    proved = press(turn.session, Menu.VERIFY, "0001", facts(order=order(), owner_proved=True))
    assert "is on its way with Delhivery" in said(proved) and proved.session.order_id == "OL-100201"
    assert inputs(proved) == [("[entered verification digits]", None)]  # never the digits


def test_three_failed_proofs_disclose_nothing_and_go_to_a_person():
    session = call(phone=STRANGER, menu=Menu.VERIFY, pending_order="OL-100201", intent="status")
    turn = press(session, Menu.VERIFY, "1111", facts(order=order()))
    assert said(turn).startswith("That did not match.") and turn.session.verify_tries == 1
    for digits in ("2222", "3333"):
        turn = press(turn.session, Menu.VERIFY, digits, facts(order=order()))
    assert isinstance(turn.prompt, Enqueue)
    assert said(turn).startswith("Sorry, I could not verify this order, so I can't share its details.")
    assert turn.session.outcome == "queued" and turn.session.pending_order is None
    esc = escalation(turn)
    assert esc.order_id is None and esc.reason == "delivery"
    assert "could not verify order OL-100201 (3 tries); nothing was disclosed" in esc.note
    assert "1111" not in esc.note and "Delhivery" not in esc.note
    late = press(replace(session, verify_tries=2), Menu.VERIFY, "3333", facts(order=order(), in_hours=False))
    assert late.session.outcome == "verification_failed" and late.session.menu is Menu.AFTER_HOURS


def test_a_made_up_order_number_sounds_exactly_like_someone_elses_order():
    """No existence oracle: until a proof succeeds, a number that names no order gets the same words."""
    real = call(phone=STRANGER, menu=Menu.CONFIRM, pending_order="100201", intent="status")
    made_up = replace(real, pending_order="999999")
    turns = [press(real, Menu.CONFIRM, "1", facts(order=order())), press(made_up, Menu.CONFIRM, "1", facts())]
    assert said(turns[0]) == said(turns[1]) and turns[0].session.menu is turns[1].session.menu is Menu.VERIFY
    for _ in range(3):
        turns = [press(turns[0].session, Menu.VERIFY, "1111", facts(order=order())),
                 press(turns[1].session, Menu.VERIFY, "1111", facts())]
        assert said(turns[0]) == said(turns[1])
    assert all(isinstance(turn.prompt, Enqueue) for turn in turns)


def test_a_locked_order_is_refused_whatever_the_caller_keys_in():
    session = call(phone=STRANGER, menu=Menu.VERIFY, pending_order="100201", intent="status")
    turn = press(session, Menu.VERIFY, "0001", facts(order=order(), proof_refused=True))
    assert said(turn).startswith("Sorry, I can't check that order on this line any more today.")
    assert isinstance(turn.prompt, Enqueue) and turn.session.order_id is None
    assert "locked after too many wrong answers" in escalation(turn).note and "Delhivery" not in said(turn)


def test_a_change_without_an_attested_caller_id_needs_the_code_from_whatsapp():
    for session in (at_menu(attested=False), at_menu(phone=STRANGER, customer_name=None)):
        turn = press(session, Menu.MAIN, "3", facts(order=order()))
        assert turn.prompt is None and turn.request == SendCode("OL-100201")
        asked = step(turn.session, CodeSent("OL-100201", "queued"), facts())
        assert asked.session.menu is Menu.CODE
        assert said(asked).startswith("To make this change, I have asked our system to send a 6 digit number on "
                                      "WhatsApp to the phone number on order O L 1 0 0 2 0 1.")
        assert wants(asked.session, Gathered(Menu.CODE, "123456#")) == Wants(order="OL-100201", code="123456")
        wrong = press(asked.session, Menu.CODE, "111111", facts(order=order(), code_tries_left=2))
        assert said(wrong).startswith("That number did not match.") and wrong.session.menu is Menu.CODE
        assert inputs(wrong) == [("[entered the one-time code]", None)] if session.phone else True
        right = press(wrong.session, Menu.CODE, "123456", facts(order=order(), code_matched=True))
        assert right.session.menu is Menu.RESCHEDULE and right.session.code_orders == ("OL-100201",)
        dead = press(asked.session, Menu.CODE, "222222", facts(order=order(), code_tries_left=0))
        assert said(dead).startswith("Sorry, that number did not work, so I can't make this change.")
        assert dead.session.menu is Menu.MAIN and not dead.session.code_orders
    unsent = step(turn.session, CodeSent("OL-100201", "refused"), facts())
    assert said(unsent).startswith("Sorry, I could not send the number for this change. To talk to a person, press 0.")
    status = press(at_menu(attested=False), Menu.MAIN, "1", facts(order=order()))
    assert "is on its way with Delhivery" in said(status)  # status needs no code


# -- what the caller came for --------------------------------------------------------------------
def test_payments():
    turn = press(at_menu(), Menu.MAIN, "4", facts(order=order()))
    assert "1299 rupees is to be paid on delivery" in said(turn)


def test_address_change_asks_for_a_whatsapp_message_and_says_how_it_went():
    session = at_menu(order_id="OL-100221")
    turn = press(session, Menu.MAIN, "2", facts(order=PLACED))
    assert turn.prompt is None and inputs(turn) == [("[pressed 2: address]", "change_address")]
    assert isinstance(turn.request, SendAddressChange)
    assert (turn.request.phone, turn.request.order_id) == (ASHA, "OL-100221")
    assert "change the delivery address of order OL-100221" in turn.request.text
    spoken = {status: said(step(turn.session, AddressChangeSent("OL-100221", status), facts()))
              for status in ("sent", "outbox", "retrying", "refused")}
    assert spoken["sent"] == spoken["outbox"]
    assert spoken["sent"].startswith("I have sent a WhatsApp message to the phone number on order O L 1 0 0 2 2 1.")
    assert spoken["retrying"].startswith("I have asked our system to send a WhatsApp message")
    assert spoken["refused"].startswith("Sorry, I could not send the WhatsApp message for the address change. "
                                        "To talk to a person, press 0.")
    sent = step(turn.session, AddressChangeSent("OL-100221", "sent"), facts()).session
    assert sent.log[-1] == "address-change WhatsApp for OL-100221: sent"


def test_address_change_refused_by_the_rules_says_why():
    turn = press(at_menu(), Menu.MAIN, "2", facts(order=order()))
    assert turn.request is None
    assert said(turn).startswith("I can't change the address of order O L 1 0 0 2 0 1, because the order has "
                                 "already shipped, so the courier cannot change its address. To talk to a person")


def test_reschedule_offers_days_then_confirms_then_asks_the_order_service():
    offer = press(at_menu(), Menu.MAIN, "3", facts(order=order()))
    assert offer.session.menu is Menu.RESCHEDULE
    assert offer.session.reschedule_days == ("2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03")
    assert said(offer).startswith("You can move the delivery of order O L 1 0 0 2 0 1 to one of these days. "
                                  "For tomorrow, Sunday 29 November, press 1. For Monday 30 November, press 2.")
    chosen = press(offer.session, Menu.RESCHEDULE, "2")
    assert chosen.session.reschedule_day == "2026-11-30" and chosen.session.menu is Menu.RESCHEDULE_CONFIRM
    assert said(chosen) == "You chose Monday 30 November. To confirm, press 1. To choose another day, press 2."
    assert press(offer.session, Menu.RESCHEDULE, "6").session.menu is Menu.RESCHEDULE  # no sixth day
    confirm = press(chosen.session, Menu.RESCHEDULE_CONFIRM, "1")
    assert confirm.prompt is None and confirm.request == Reschedule("OL-100201", "2026-11-30")
    assert inputs(confirm) == [("[pressed 1: confirm]", None)]
    done = step(confirm.session, Rescheduled(date(2026, 11, 30)), facts())
    assert said(done).startswith("Done. Order O L 1 0 0 2 0 1 will now be delivered Monday 30 November.")
    assert done.session.log[-1] == "rescheduled OL-100201 to 2026-11-30"
    again = press(chosen.session, Menu.RESCHEDULE_CONFIRM, "2")
    assert again.session.menu is Menu.RESCHEDULE and said(again).startswith("You can move the delivery")


def test_reschedule_outcomes_other_than_done():
    session = at_menu(menu=Menu.RESCHEDULE_CONFIRM, reschedule_day="2026-11-30", intent="reschedule")
    refused = step(session, RescheduleRefused("the order has already been delivered"), facts())
    assert said(refused).startswith("I can't reschedule order O L 1 0 0 2 0 1, because the order has already "
                                    "been delivered. To talk to a person, press 0.")
    assert wants(session, RescheduleDayGone()) == Wants(order="OL-100201")
    gone = step(session, RescheduleDayGone(), facts(order=order()))
    assert said(gone).startswith("That day is no longer available. You can move the delivery")
    assert gone.session.menu is Menu.RESCHEDULE
    failed = step(session, RescheduleFailed(), facts())
    assert said(failed).startswith("Sorry, something went wrong on our side. To talk to a person, press 0.")


def test_reschedule_refused_by_the_rules_before_any_day_is_offered():
    turn = press(at_menu(order_id="OL-100221"), Menu.MAIN, "3", facts(order=PLACED))
    assert turn.session.menu is Menu.MAIN and turn.session.reschedule_days == ()
    assert "because the order has not shipped yet, so there is no delivery to move." in said(turn)


# -- a person --------------------------------------------------------------------------------------
def test_after_hours_one_books_a_call_back_and_ends_the_call():
    turn = press(at_menu(menu=Menu.AFTER_HOURS, intent="status"), Menu.AFTER_HOURS, "1", facts(in_hours=False))
    assert isinstance(turn.prompt, Goodbye)
    assert said(turn) == "Thank you. We will call you back on this number when we open. Goodbye."
    assert turn.session.outcome == "callback" and turn.session.menu is Menu.DONE
    esc = escalation(turn)
    assert esc.callback is True and esc.reason == "delivery" and "caller asked for a call back" in esc.note
    other = press(at_menu(menu=Menu.AFTER_HOURS), Menu.AFTER_HOURS, "5", facts(in_hours=False))
    assert isinstance(other.prompt, Enqueue) and escalation(other).callback is False


@pytest.mark.parametrize("result, outcome, words, calls_back", [
    ("bridged", "talked_to_agent", "Thank you for calling Orderline. Goodbye.", False),
    ("hangup", "abandoned_in_queue", "", False),
    ("error", "queued", "Sorry, we could not connect you. We will call you back on this number. Goodbye.", True),
])
def test_leaving_the_queue(result, outcome, words, calls_back):
    turn = step(at_menu(outcome="queued", menu=Menu.QUEUE), LeftQueue(result), facts())
    assert isinstance(turn.prompt, Goodbye) and said(turn) == words
    assert turn.session.outcome == outcome and turn.session.log[-1] == f"left the queue: {result}"
    assert any(isinstance(e, Escalate) and e.callback for e in turn.effects) is calls_back


def test_without_caller_id_nothing_goes_to_a_transcript_and_the_escalation_has_nobody():
    session = call(phone=None, intent="status")
    turn = press(session, Menu.MAIN, "0")
    assert inputs(turn) == [] and escalation(turn).phone is None
    assert turn.session.log == ("caller: [pressed 0: a person]",)
    assert press(session, Menu.MAIN, "9").effects == ()


def test_step_leaves_its_input_untouched():
    session = at_menu()
    first = press(session, Menu.MAIN, "1", facts(order=order()))
    assert session == at_menu() and first == press(session, Menu.MAIN, "1", facts(order=order()))


# -- the session as stored -----------------------------------------------------------------------
def test_a_session_stored_with_string_menus_and_lists_loads_as_before():
    stored = ('{"call_sid": "CA1", "phone": "+919000000001", "language": "hi", "menu": "reschedule_confirm", '
              '"attempts": 1, "reschedule_days": ["2026-11-29"], "log": ["caller: [no input]"], "gone": 1}')
    session = CallSession.from_json(stored)
    assert session.menu is Menu.RESCHEDULE_CONFIRM and session.reschedule_days == ("2026-11-29",)
    assert session.log == ("caller: [no input]",) and session.language == "hi"
    assert CallSession.from_json(session.to_json()) == session
    assert '"menu": "reschedule_confirm"' in session.to_json()
    assert CallSession.from_json('{"call_sid": "CA1", "menu": "somewhere"}').menu is Menu.MAIN


def test_the_turn_log_keeps_the_last_forty_short_lines():
    session = call()
    for i in range(45):
        session = session.noted(f"line {i} " + "x" * 400)
    assert len(session.log) == 40 and session.log[0].startswith("line 5 ") and len(session.log[-1]) == 300
