"""Never stuck: every form step and every yes/no or which-order question, walked with junk.

Two rules, checked at each step: an unexpected message never gets the generic fallback (a side
question gets a short answer, then the same question is asked again with the answers it takes),
and no question is asked more than 3 times in a row (the third miss offers a person; "yes" opens
an escalation)."""
import pytest

import rasa_sdk  # noqa: F401  (these tests run in .venv-rasa)

from actions.address import ActionAskAddressConfirmed, ActionSubmitAddress, ValidateAddressForm  # noqa: E402
from actions.conversation import ActionHandleAffirm, ActionHandleFallback, ActionHandleInform  # noqa: E402
from actions.pending import REASK  # noqa: E402
from actions.reschedule import ActionAskDeliverySlot, ActionSubmitReschedule, ValidateRescheduleForm  # noqa: E402
from actions.returns import ActionSubmitReturn, ValidateReturnForm  # noqa: E402
from actions.status import ActionOrderStatus  # noqa: E402
from helpers import NEHA, open_escalations, paused, render, responses, run, slot, tracker  # noqa: E402

GENERIC = {"utter_default", "utter_fallback_handoff", "utter_how_can_i_help"}
ADDRESS = {"address_line1": "221B Residency Road", "address_line2": "-", "address_city": "Bengaluru",
           "address_pincode": "560025"}
# form, its validation and submit actions, the slots filled before each step, the step, junk for it,
# and what the question (asked again by the form) tells the customer it accepts.
STEPS = [
    ("address_form", ValidateAddressForm, ActionSubmitAddress, {}, "address_line1", "??", "house/flat number"),
    ("address_form", ValidateAddressForm, ActionSubmitAddress, {k: ADDRESS[k] for k in ["address_line1"]},
     "address_line2", None, "'no' to skip"),  # any text is a landmark: only a side question misses here
    ("address_form", ValidateAddressForm, ActionSubmitAddress,
     {k: ADDRESS[k] for k in ["address_line1", "address_line2"]}, "address_city", "12", "e.g. Indore"),
    ("address_form", ValidateAddressForm, ActionSubmitAddress,
     {k: ADDRESS[k] for k in ["address_line1", "address_line2", "address_city"]}, "address_pincode", "abc",
     "6-digit"),
    ("address_form", ValidateAddressForm, ActionSubmitAddress, ADDRESS, "address_confirmed", "maybe idk",
     "yes or no"),
    ("reschedule_form", ValidateRescheduleForm, ActionSubmitReschedule, {"reschedule_mode": "reschedule"},
     "delivery_date", "blah blah", "e.g. tomorrow"),
    ("reschedule_form", ValidateRescheduleForm, ActionSubmitReschedule,
     {"reschedule_mode": "reschedule", "delivery_date": "2030-01-01"}, "delivery_slot", "whenever", "or evening"),
    ("return_form", ValidateReturnForm, ActionSubmitReturn, {"return_kind": "return"}, "return_reason", "?",
     "e.g. wrong size"),
]
STEP_IDS = [s[4] for s in STEPS]
SIDE = "where is my order"


def _form_turn(form, before, step, text, misses, phone, side=False):
    extracted = {} if step == "address_confirmed" and not side else {step: text}
    return tracker(text, "order_status" if side else "nlu_fallback", phone=phone, active_loop=form,
                   confidence=0.95 if side else 0.3, extracted=extracted,
                   slots={**before, "requested_slot": step, "question_misses": float(misses),
                          "active_order_id": "OL-100601"})


def _ask(step, domain):
    """What the form says when it asks `step` (Rasa runs utter_ask_<slot> or action_ask_<slot>)."""
    custom = {"address_confirmed": ActionAskAddressConfirmed, "delivery_slot": ActionAskDeliverySlot}
    if step in custom:
        _, messages = run(custom[step](), tracker("", slots=ADDRESS), domain)
        return render(messages[0], domain, "whatsapp", "en")
    return render({"response": f"utter_ask_{step}"}, domain, "whatsapp", "en")


@pytest.mark.parametrize("form, validate, submit, before, step, junk, accepts", STEPS, ids=STEP_IDS)
def test_every_form_step_answers_asides_and_asks_at_most_three_times(client, domain, form, validate, submit,
                                                                      before, step, junk, accepts):
    phone = "+9198123009" + str(STEP_IDS.index(step)).zfill(2)
    validator = validate(client)
    assert accepts in _ask(step, domain)  # the question the form asks again says what it accepts

    turns = [(junk or SIDE, junk is None), (SIDE, True), (junk or SIDE, junk is None)]
    for misses, (text, side) in enumerate(turns):
        events, messages = run(validator, _form_turn(form, before, step, text, misses, phone, side),
                               domain)
        said = responses(messages)
        assert not GENERIC & set(said), said
        assert slot(events, step, None) is None  # junk and side questions are never taken as the answer
        if side:
            assert said[0].startswith("utter_order_"), said  # the short answer comes first
        if misses < 2:
            assert slot(events, "question_misses") == misses + 1
            assert slot(events, "requested_slot", "kept") != None  # noqa: E711  (the form asks again)
            assert "utter_offer_person_stuck" not in said
        else:
            assert said[-1] == "utter_offer_person_stuck"
            assert slot(events, "awaiting") == "handoff_offer" and slot(events, "requested_slot") is None

    # The form has stopped: its submit action stays quiet; "yes" opens an escalation.
    stopped = tracker("", slots={**before, "awaiting": "handoff_offer", "active_order_id": "OL-100601"}, phone=phone)
    _, messages = run(submit(client), stopped, domain)
    assert messages == []
    yes = tracker("yes", "affirm", phone=phone, slots={"awaiting": "handoff_offer", "handoff_reason": "general",
                                                        "handoff_note": slot(events, "handoff_note")})
    events, messages = run(ActionHandleAffirm(client), yes, domain)
    assert responses(messages) == ["utter_handoff_done"] and paused(events)
    [opened] = [e for e in open_escalations(client) if e.get("phone") == phone]
    assert step in (opened.get("note") or "")


def test_a_good_answer_resets_the_count(domain):
    trk = tracker("560025", slots={"requested_slot": "address_pincode", "question_misses": 2.0},
                  extracted={"address_pincode": "560025"}, active_loop="address_form")
    events, messages = run(ValidateAddressForm(), trk, domain)
    assert messages == [] and slot(events, "address_pincode") == "560025" and slot(events, "question_misses") == 0


QUESTIONS = [q for q in REASK]


@pytest.mark.parametrize("awaiting", QUESTIONS)
@pytest.mark.parametrize("handler, intent", [(ActionHandleFallback, "nlu_fallback"), (ActionHandleInform, "inform")])
def test_every_pending_question_is_asked_again_then_a_person(client, domain, awaiting, handler, intent):
    phone = "+91981230" + str(100 + QUESTIONS.index(awaiting) * 2 + (intent == "inform"))
    pending = {"awaiting": awaiting, "active_order_id": "OL-100601", "order_choices": ["OL-100234", "OL-100235"],
               "pending_action": "action_order_status"}
    for misses in range(3):
        trk = tracker("hmm whatever", intent, phone=phone, confidence=0.3,
                      slots={**pending, "question_misses": float(misses)})
        events, messages = run(handler(client), trk, domain)
        said = responses(messages)
        assert not GENERIC & set(said), said
        if misses < 2:
            assert said == [REASK[awaiting]] and slot(events, "question_misses") == misses + 1
        elif awaiting == "handoff_offer":  # a person offered three times over: hand over
            assert paused(events) and [e for e in open_escalations(client) if e.get("phone") == phone]
        else:
            assert said == ["utter_offer_person_stuck"] and slot(events, "awaiting") == "handoff_offer"
    reasked = render({"response": REASK[awaiting], **messages[0]} if misses < 2 else
                     {"response": REASK[awaiting], "order_ref": "OL-1", "first": "OL-1", "second": "OL-2"},
                     domain, "whatsapp", "en")
    assert any(w in reasked for w in ("yes or no", "Reply 1 or 2", "OL-")), reasked


@pytest.mark.parametrize("style", ["en", "hinglish"])
def test_a_status_question_during_a_confirmation_is_answered_then_the_question_comes_back(client, domain, style):
    trk = tracker(SIDE, "order_status", phone=NEHA,
                  slots={"awaiting": "cancel_confirm", "active_order_id": "OL-100601", "reply_style": style})
    events, messages = run(ActionOrderStatus(client), trk, domain)
    assert responses(messages) == ["utter_order_not_shipped", "utter_reask_cancel_confirm"]
    assert slot(events, "awaiting") == "cancel_confirm" and slot(events, "question_misses") == 1
    text = render(messages[1], domain, "whatsapp", style)
    assert "OL-100601" in text and ("yes" in text if style == "en" else "haan" in text)
