"""The simulator's endpoints against the app on a real HTTP server: every action goes through
the real, signed front doors, and the thread shows what happened to each message."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from orderline.clock import Clock
from orderline.models import Message, Notification
from tests.support.values import IST
from wiring import create_app
from wiring import Services
from tests.support.jobs import run_jobs

ASHA, ROHIT, STRANGER = "+919000000001", "+919000000002", "+919000000099"
ASHA_IN_TRANSIT = "OL-100201"


def run_worker(svc: Services) -> None:
    run_jobs(svc)


def thread(client, phone):
    resp = client.get(f"/try/api/thread?phone={phone}")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.json


def say(client, phone, text):
    resp = client.post("/try/api/whatsapp", json={"phone": phone, "text": text})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.json


def test_page_lists_the_demo_customers(client, demo):
    resp = client.get("/try")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Asha Verma · +919000000001" in html and 'id="wa-thread"' in html
    assert client.get("/try/static/sim.js").status_code == 200


def test_a_message_goes_through_the_signed_webhook_and_the_answer_shows(client, live, demo, fake_rasa, services):
    answer = say(client, ASHA, "hello")
    assert answer["replies"][0].startswith("Hi! I can help with your orders.")
    assert fake_rasa.heard(ASHA)[0]["message"] == "hello"  # the real front door reached the assistant
    with services.sessions() as s:
        inbound = s.scalars(select(Message).where(Message.direction == "in")).one()
    assert inbound.twilio_sid.startswith("SM") and len(inbound.twilio_sid) == 34
    items = thread(client, ASHA)["items"]
    assert [(i["from"], i["text"][:20]) for i in items] == [("customer", "hello"), ("business", "Hi! I can help with ")]
    assert items[1]["author"] == "Assistant" and items[1]["tick"] == "sent"
    # The assistant offered buttons: they are the quick replies, and one tap picks the payload.
    quick = thread(client, ASHA)["quick_replies"]
    assert [q["label"] for q in quick] == ["Track my order", "Talk to a person"]
    say(client, ASHA, quick[1]["text"])
    assert fake_rasa.heard(ASHA)[-1]["message"] == "/human_handoff"


def test_outbox_messages_show_as_delivered(client, live, demo, services):
    say(client, ASHA, "hello")  # opens the 24-hour window
    result = services.sender.send(ASHA, "An agent writes back.", author="agent:asha")
    assert result.status == "outbox"
    last = thread(client, ASHA)["items"][-1]
    assert last["text"] == "An agent writes back." and last["author"] == "Support · asha"
    assert last["tick"] == "delivered" and last["status"] == "outbox"


def test_out_for_delivery_reaches_the_thread_once(client, live, demo, services):
    say(client, ASHA, "hi")
    fired = client.post("/try/api/shipments", json={"order_id": ASHA_IN_TRANSIT, "event": "out_for_delivery"})
    assert fired.status_code == 200, fired.json
    assert "OUT FOR DELIVERY" in fired.json["note"]
    run_worker(services)
    items = thread(client, ASHA)["items"]
    update = [i for i in items if i["author"] == "Order update · out for delivery"]
    assert len(update) == 1 and "out for delivery today" in update[0]["text"] and update[0]["tick"] == "delivered"
    again = client.post("/try/api/shipments", json={"order_id": ASHA_IN_TRANSIT, "event": "out_for_delivery"})
    assert "the order stays out for delivery" in again.json["note"] and "no message" in again.json["note"]
    run_worker(services)
    assert len([i for i in thread(client, ASHA)["items"] if i["author"].startswith("Order update")]) == 1


def test_a_refusal_outside_the_window_is_shown_with_its_reason(client, live, demo, services):
    fired = client.post("/try/api/shipments", json={"order_id": ASHA_IN_TRANSIT, "event": "out_for_delivery"})
    assert fired.status_code == 200
    run_worker(services)
    [item] = thread(client, ASHA)["items"]
    assert item["tick"] == "not_sent"
    assert item["note"] == "not sent: outside WhatsApp's 24-hour window and no template is configured"


@pytest.fixture
def night(settings, demo):
    """The same app at 22:30 IST: inside quiet hours."""
    svc = Services.build(settings, Clock.fixed(datetime(2026, 11, 28, 22, 30, tzinfo=IST)))
    yield svc, create_app(settings, svc).test_client()
    svc.engine.dispose()


def test_quiet_hours_hold_is_shown_with_the_time(night, live):
    svc, client = night
    say(client, ASHA, "hi")
    delivered = client.post("/try/api/shipments", json={"order_id": "OL-100201", "event": "delivered"})
    assert delivered.status_code == 200 and "delivered" in delivered.json["note"]
    run_worker(svc)
    notices = [i for i in thread(client, ASHA)["items"] if i["kind"] == "notice"]
    assert [n["text"] for n in notices] == ["Delivered message for OL-100201: held until 09:00 tomorrow (quiet hours)"]


def test_a_backwards_event_changes_nothing_and_says_so(client, live, demo, services):
    resp = client.post("/try/api/shipments", json={"order_id": "OL-100211", "event": "out_for_delivery"})
    assert resp.status_code == 200
    assert "stays delivered" in resp.json["note"] and "never move an order backwards" in resp.json["note"]
    with services.sessions() as s:
        assert s.scalars(select(Notification)).all() == []


def test_a_failed_attempt_offers_its_choices_as_quick_replies(client, live, demo, services):
    say(client, ASHA, "hi")
    resp = client.post("/try/api/shipments", json={"order_id": ASHA_IN_TRANSIT, "event": "delivery_failed"})
    assert resp.status_code == 200, resp.json
    run_worker(services)
    t = thread(client, ASHA)
    assert "Customer not available at the address" in t["items"][-1]["text"]
    assert [q["text"] for q in t["quick_replies"]] == ["1", "2", "3"]


# -- the phone ---------------------------------------------------------------------------------------
def call(client, path, body):
    resp = client.post(f"/try/api/calls{path}", json=body)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.json["error"] is None, resp.json["error"]
    return resp.json


def test_a_call_walks_the_real_ivr(client, live, demo, services):
    turn = call(client, "", {"phone": ASHA})
    assert turn["state"] == "waiting" and turn["gather"]["numDigits"] == "1"
    assert "Hello Asha" in turn["said"][0]["text"] and turn["said"][0]["language"] == "en-IN"
    status = call(client, f"/{turn['call_sid']}/input", {"digits": "1"})
    spoken = " ".join(s["text"] for s in status["said"])
    assert "Order O L 1 0 0 2 2 1 is placed" in spoken and status["state"] == "waiting"  # her newest open order
    ended = call(client, f"/{turn['call_sid']}/hangup", {})
    assert ended["state"] == "ended" and ended["ended"] == "caller_hung_up"
    notes = [m["text"] for m in services.conversations.transcript(ASHA) if m["channel"] == "voice"]
    assert any(n.startswith(f"Call {turn['call_sid']} ended: completed") for n in notes)  # the status callback ran


def test_a_hindi_caller_hears_hindi(client, live, demo):
    turn = call(client, "", {"phone": ROHIT})
    assert {s["language"] for s in turn["said"]} == {"hi-IN"}


def test_silence_ends_in_the_queue_and_hanging_up_leaves_it(client, live, demo, services):
    turn = call(client, "", {"phone": STRANGER})
    for _ in range(3):
        if turn["state"] != "waiting":
            break
        turn = call(client, f"/{turn['call_sid']}/input", {"silence": True})
    assert turn["state"] == "queued" and turn["queue"] == "support" and turn["gather"] is None
    left = call(client, f"/{turn['call_sid']}/hangup", {})
    assert left["state"] == "ended"
    [esc] = services.escalations.list()
    assert esc.channel == "voice" and esc.phone == STRANGER


def test_typed_speech_reaches_the_assistant(client, live, demo, fake_rasa):
    turn = call(client, "", {"phone": ASHA})
    answer = call(client, f"/{turn['call_sid']}/input", {"speech": "where is my order"})
    [heard] = fake_rasa.heard(f"voice:{turn['call_sid']}")  # the call's own conversation, not the WhatsApp one
    assert heard["message"] == "where is my order"
    assert heard["metadata"] == {"channel": "voice", "phone": ASHA, "language": "en", "caller_attested": True}
    assert "where is my order" in " ".join(s["text"] for s in answer["said"])  # the fake echoes it


# -- refusals and errors -------------------------------------------------------------------------------
@pytest.mark.parametrize("path, body", [("/try/api/calls/CAnosuch/input", {"digits": "1"}),
                                        ("/try/api/calls/CAnosuch/hangup", {})])
def test_unknown_call_is_404(client, path, body):
    assert client.post(path, json=body).status_code == 404


@pytest.mark.parametrize("body", [{"phone": "not a phone", "text": "hi"}, {"phone": ASHA, "text": "  "}])
def test_bad_input_is_400(client, body):
    assert client.post("/try/api/whatsapp", json=body).status_code == 400


def test_forms_are_not_accepted(client):
    assert client.post("/try/api/whatsapp", data={"phone": ASHA, "text": "hi"}).status_code == 415


def test_an_unreachable_app_is_explained(client, demo):
    # No server listens on ORDER_SERVICE_URL in this test.
    resp = client.post("/try/api/whatsapp", json={"phone": ASHA, "text": "hi"})
    assert resp.status_code == 502 and "ORDER_SERVICE_URL" in resp.json["message"]


@pytest.mark.parametrize("extra_settings", [{"simulator_enabled": False}], indirect=True)
def test_off_means_404(client):
    assert client.get("/try").status_code == 404
    assert client.get("/try/static/sim.js").status_code == 404
    assert client.post("/try/api/whatsapp", json={"phone": ASHA, "text": "hi"}).status_code == 404


@pytest.mark.parametrize("extra_settings", [{"orderline_env": "production"}], indirect=True)
def test_production_is_off_by_default(client):
    assert client.get("/try").status_code == 404


@pytest.mark.parametrize("extra_settings", [{"orderline_env": "production", "simulator_enabled": True}], indirect=True)
def test_production_has_no_simulator_even_when_enabled(client, live, demo, services, fake_rasa):
    """From the environment, production refuses SIMULATOR_ENABLED=true outright (tests/test_settings.py)."""
    assert client.get("/try").status_code == 404
    for path, body in [("/try/api/whatsapp", {"phone": ASHA, "text": "hi"}), ("/try/api/calls", {"phone": ASHA}),
                       ("/try/api/shipments", {"order_id": ASHA_IN_TRANSIT, "event": "delivered"})]:
        assert client.post(path, json=body).status_code == 404, path
    assert client.get(f"/try/api/thread?phone={ASHA}").status_code == 404
    assert fake_rasa.heard() == []
    with services.sessions() as s:
        assert s.scalars(select(Message)).all() == []
