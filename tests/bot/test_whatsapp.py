"""POST /twilio/whatsapp and /twilio/message-status, end to end through the Flask app, the real
DB and Redis, a fake Rasa and a fake Twilio (both local HTTP servers)."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from bot import routing
from orderline.conversations import events_channel
from orderline.models import Agent, Conversation, Message
from tests.support.whatsapp import PHONE, PUBLIC, TOKEN, bodies, closed_port, signed_post, tuned, twilio_form
from edge.twilio_auth import sign
from orderline.escalations import OpenEscalation
from tests.support.agents import add_agent


def conversation(services, phone=PHONE) -> Conversation:
    with services.sessions() as s:
        return s.scalars(select(Conversation).where(Conversation.phone == phone)).one()


# -- authenticity ------------------------------------------------------------------
def test_signed_greeting_is_answered_inline(whatsapp, services, fake_rasa):
    [reply] = bodies(whatsapp("hi"))
    assert reply.startswith("Hi! I can help")
    assert "1. Track my order" in reply and "2. Talk to a person" in reply
    [call] = fake_rasa.heard()
    assert call == {"sender": PHONE, "message": "hi",
                    "metadata": {"channel": "whatsapp", "phone": PHONE, "language": "en"}}
    transcript = services.conversations.transcript(PHONE)
    assert [(m["direction"], m["author"], m["status"]) for m in transcript] == [
        ("in", "customer", "received"), ("out", "bot", "sent")]
    assert transcript[1]["text"] == reply
    conv = conversation(services)
    assert (conv.profile_name, conv.wa_id) == ("Priya", PHONE.lstrip("+"))


def test_customer_language_goes_to_rasa(whatsapp, services, fake_rasa, demo):
    hindi = next(r for r in demo.values() if r["customer"].get("language") == "hi")
    bodies(whatsapp("mera order kab aayega", phone=hindi["customer"]["phone"]))
    assert fake_rasa.heard()[0]["metadata"]["language"] == "hi"


def test_missing_signature_is_403(client, fake_rasa, services):
    resp = client.post("/twilio/whatsapp", data=twilio_form("hi"))
    assert resp.status_code == 403
    assert fake_rasa.heard() == [] and services.conversations.conversation(PHONE) is None


def test_tampered_body_is_403(client, fake_rasa):
    form = twilio_form("hi")
    headers = {"X-Twilio-Signature": sign(TOKEN, PUBLIC + "/twilio/whatsapp", form)}
    form["Body"] = "cancel my order"
    assert client.post("/twilio/whatsapp", data=form, headers=headers).status_code == 403
    assert fake_rasa.heard() == []


def test_wrong_token_is_403(client, fake_rasa):
    assert signed_post(client, "/twilio/whatsapp", twilio_form("hi"), token="not-the-token").status_code == 403


def test_proxied_https_url_with_query_validates(client, fake_rasa):
    """Behind a proxy Flask sees http://internal; Twilio signed the public https URL with its query."""
    resp = signed_post(client, "/twilio/whatsapp", twilio_form("hi"), query="tenant=in&x=a%20b",
                       headers={"X-Forwarded-Proto": "https", "Host": "10.0.0.5:8000"})
    assert len(bodies(resp)) == 1 and len(fake_rasa.heard()) == 1
    # The same signature for a URL without the query is not accepted.
    form = twilio_form("hi")
    sig = sign(TOKEN, PUBLIC + "/twilio/whatsapp", form)
    assert client.post("/twilio/whatsapp?tenant=in", data=form,
                       headers={"X-Twilio-Signature": sig}).status_code == 403


# -- idempotency -------------------------------------------------------------------
def test_duplicate_message_sid_is_handled_once(whatsapp, services, fake_rasa):
    first = whatsapp("hi", sid="SMdup0001")
    assert len(bodies(first)) == 1
    again = whatsapp("hi", sid="SMdup0001")
    assert bodies(again) == [] and ET.fromstring(again.data).tag == "Response"
    assert len(fake_rasa.heard()) == 1
    assert [m["direction"] for m in services.conversations.transcript(PHONE)] == ["in", "out"]


# -- never 500 ---------------------------------------------------------------------
@pytest.mark.parametrize("form", [
    {"Body": "hi"},                                   # no From at all
    {"From": "whatsapp:not-a-number", "Body": "hi"},
    {"From": "whatsapp:" + "9" * 40, "Body": "hi"},
])
def test_signed_garbage_without_a_sender_is_400(client, form, fake_rasa):
    assert signed_post(client, "/twilio/whatsapp", form).status_code == 400
    assert fake_rasa.heard() == []


def test_control_characters_and_long_text_are_stored_clean(whatsapp, services, fake_rasa):
    text = "hello\x00\x07 world " + "x" * 6000
    assert len(bodies(whatsapp(text, NumMedia="lots", MediaUrl0="javascript:alert(1)"))) == 1
    stored = services.conversations.transcript(PHONE)[0]
    assert "\x00" not in stored["text"] and stored["text"].startswith("hello world")
    assert len(stored["text"]) <= routing.MAX_TEXT and stored["media"] == []


@pytest.mark.parametrize("data,content_type", [
    (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
    (b"{not json", "application/json"),
    (b"--x\r\nnonsense", "multipart/form-data; boundary=x"),
])
def test_garbage_bodies_are_never_500(client, data, content_type):
    resp = client.post("/twilio/whatsapp", data=data, content_type=content_type,
                       headers={"X-Twilio-Signature": "bogus"})
    assert resp.status_code in (400, 403)


def test_huge_body_is_413_not_500(client):
    form = twilio_form("x" * (2 * 1024 * 1024))
    assert signed_post(client, "/twilio/whatsapp", form).status_code == 413


@pytest.mark.parametrize("rasa_url", [f"http://127.0.0.1:{closed_port()}"])
def test_internal_failure_is_a_200_apology(app, settings, services):
    """Rasa down and Redis down (the job cannot be queued): still TwiML, never a 500."""
    from wiring import create_app
    from wiring import Services

    broken = tuned(settings, redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    svc = Services.build(broken, services.clock)
    try:
        resp = signed_post(create_app(broken, svc).test_client(), "/twilio/whatsapp", twilio_form("where is my order"))
        assert bodies(resp) == [routing.APOLOGY]
    finally:
        svc.engine.dispose()


# -- consent -----------------------------------------------------------------------
def test_stop_then_start(whatsapp, services, fake_rasa, fake_twilio):
    assert bodies(whatsapp("hi")) and len(fake_rasa.heard()) == 1
    assert bodies(whatsapp("STOP")) == [routing.OPTED_OUT]
    assert conversation(services).opted_out is True
    assert len(fake_rasa.heard()) == 1  # the keyword is not a conversation turn
    assert services.sender.send(PHONE, "Your order shipped").status == "refused"
    # Replies to messages the customer sends still come, while opted out.
    assert bodies(whatsapp("where is my order")) == ["You said: where is my order"]
    assert bodies(whatsapp("start")) == [routing.OPTED_IN]
    assert conversation(services).opted_out is False
    assert services.sender.send(PHONE, "Your order shipped").status == "sent"
    assert [m["body"] for m in fake_twilio.sent_to(PHONE)] == ["Your order shipped"]


@pytest.mark.parametrize("text", ["cancel", "CANCEL", "please stop", "stop sending offers", "yes"])
def test_ordinary_words_are_not_consent_keywords(whatsapp, services, fake_rasa, text):
    assert bodies(whatsapp(text)) == [f"You said: {text}"]
    assert conversation(services).opted_out is False


# -- media -------------------------------------------------------------------------
def test_media_is_acknowledged_stored_and_text_still_reaches_the_bot(whatsapp, services, fake_rasa):
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
    replies = bodies(whatsapp("my parcel arrived damaged", NumMedia="1", MediaUrl0=url,
                              MediaContentType0="image/jpeg", MessageType="image"))
    assert replies == [routing.media_ack([{"content_type": "image/jpeg"}]), "You said: my parcel arrived damaged"]
    assert "attached your photo" in replies[0]
    assert services.conversations.transcript(PHONE)[0]["media"] == [{"url": url, "content_type": "image/jpeg"}]


def test_media_without_text_is_only_acknowledged(whatsapp, services, fake_rasa):
    replies = bodies(whatsapp("", NumMedia="2", MediaUrl0="https://example.test/a.pdf",
                              MediaContentType0="application/pdf", MediaUrl1="https://example.test/b.jpg",
                              MediaContentType1="image/jpeg"))
    assert replies == ["Thanks, we've attached your files to your conversation; an agent will look at it."]
    assert fake_rasa.heard() == []
    assert len(services.conversations.transcript(PHONE)[0]["media"]) == 2


# -- buttons -----------------------------------------------------------------------
def test_numbered_reply_and_button_payloads_map_to_intents(whatsapp, fake_rasa):
    bodies(whatsapp("hi"))
    bodies(whatsapp("2"))
    assert fake_rasa.heard()[-1]["message"] == "/human_handoff"
    bodies(whatsapp("hi"))
    bodies(whatsapp("track my order"))  # a title typed out picks that button too
    assert fake_rasa.heard()[-1]["message"] == "/order_status"
    bodies(whatsapp("2"))  # the last answer offered no buttons: "2" is just text now
    assert fake_rasa.heard()[-1]["message"] == "2"
    bodies(whatsapp("Yes, cancel it", ButtonPayload="/affirm", ButtonText="Yes, cancel it", MessageType="button"))
    assert fake_rasa.heard()[-1]["message"] == "/affirm"
    bodies(whatsapp("Track", ButtonPayload="order_status", ButtonText="Track", MessageType="button"))
    assert fake_rasa.heard()[-1]["message"] == "/order_status"
    bodies(whatsapp("Show offers", ButtonPayload="PROMO_123", ButtonText="Show offers", MessageType="button"))
    assert fake_rasa.heard()[-1]["message"] == "Show offers"


# -- handoff -----------------------------------------------------------------------
def open_escalation(services, phone=PHONE):
    esc, created = services.escalations.open(OpenEscalation(phone, reason="delivery", channel="whatsapp", intent="human_handoff", confidence=0.9))
    assert created
    return esc


def test_handoff_mutes_the_bot_with_one_note_then_resumes(whatsapp, services, fake_rasa):
    bodies(whatsapp("hi"))
    esc = open_escalation(services)
    pubsub = services.redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(events_channel(services.redis))

    first = bodies(whatsapp("hello? where is my parcel"))
    assert len(first) == 1 and "will reply here, usually within 10 minutes" in first[0]
    assert bodies(whatsapp("anyone there?")) == []
    assert bodies(whatsapp("2")) == []
    assert len(fake_rasa.heard()) == 1  # only the greeting before the escalation

    events = []
    for _ in range(50):
        msg = pubsub.get_message(timeout=0.1)
        if msg:
            events.append(json.loads(msg["data"]))
    pubsub.close()
    assert sum(1 for e in events if e == {"type": "message", "phone": PHONE, "direction": "in",
                                          "channel": "whatsapp"}) == 3

    agent_id = add_agent(services.sessions)
    services.escalations.claim(esc.id, agent_id)
    assert bodies(whatsapp("ok thanks")) == []  # still one note per escalation
    assert len(fake_rasa.heard()) == 1

    services.escalations.resolve(esc.id, agent_id, "handed_back")
    assert bodies(whatsapp("where is my order")) == ["You said: where is my order"]
    assert len(fake_rasa.heard()) == 2

    inbound = [m for m in services.conversations.transcript(PHONE) if m["direction"] == "in"]
    assert len(inbound) == 6  # every message reached the transcript (and the console)

    open_escalation(services)  # a new escalation gets its own note
    assert len(bodies(whatsapp("hello again"))) == 1


def test_agent_already_on_it_note(whatsapp, services, fake_rasa):
    esc = open_escalation(services)
    with services.sessions() as s:
        s.add(Agent(name="ravi", password_hash="x"))
        s.commit()
        agent_id = s.scalar(select(Agent.id))
    services.escalations.claim(esc.id, agent_id)
    assert bodies(whatsapp("hi")) == [routing.AGENT_ON_IT]
    assert fake_rasa.heard() == []


def test_turn_that_escalates_adds_the_wait_note_once(whatsapp, services, fake_rasa):
    def escalate(body):
        services.escalations.open(OpenEscalation(body["sender"], reason="complaint", channel="whatsapp"))
        return [{"text": "I've passed this to our support team."}]

    fake_rasa.reply = escalate
    replies = bodies(whatsapp("I want to complain"))
    assert replies[0] == "I've passed this to our support team."
    assert len(replies) == 2 and "usually within 10 minutes" in replies[1]
    assert bodies(whatsapp("hello?")) == []


# -- Rasa slow or down -------------------------------------------------------------
@pytest.mark.parametrize("rasa_url", [f"http://127.0.0.1:{closed_port()}"])
def test_rasa_down_holds_then_hands_off(whatsapp, services, fake_twilio, worker):
    assert bodies(whatsapp("where is my order")) == [routing.HOLDING]
    [job] = worker.run(services)
    assert job.return_value().startswith("escalated:")
    # (not active_for: on SQLite it nests two BEGIN IMMEDIATE sessions and waits 30 s on itself)
    [esc] = services.escalations.list("open")
    assert esc.phone == PHONE and job.return_value() == f"escalated:{esc['id']}"
    assert (esc.reason, esc.intent, esc.channel, esc.status) == ("general", None, "whatsapp", "open")
    assert services.conversations.state(PHONE) == "waiting_for_agent"
    [sent] = fake_twilio.wait_for(PHONE, 1)
    assert sent["body"].startswith(routing.ASSISTANT_DOWN)
    # The handoff message was the waiting note: the next message gets no second one.
    assert bodies(whatsapp("hello?")) == []
    assert services.queue.count == 0


def test_rasa_slow_holds_then_the_job_delivers_the_answer(whatsapp, services, fake_rasa, fake_twilio, worker):
    fake_rasa.delay = 1.5  # longer than RASA_TIMEOUT (1 s here), shorter than the retry timeout
    assert bodies(whatsapp("where is my order")) == [routing.HOLDING]
    assert fake_twilio.sent_to(PHONE) == []
    [job] = worker.run(services)
    assert job.return_value() == "answered"
    [sent] = fake_twilio.wait_for(PHONE, 1)
    assert sent["body"] == "You said: where is my order"
    out = [m for m in services.conversations.transcript(PHONE) if m["author"] == "bot"]
    assert out[-1]["status"] == "sent" and out[-1]["sid"] == sent["sid"]


def test_twilio_5xx_on_the_job_send_is_retried(whatsapp, services, fake_rasa, fake_twilio, worker):
    fake_rasa.delay = 1.5
    bodies(whatsapp("where is my order"))
    fake_twilio.fail_next(500, 20500, "Internal Server Error")
    worker.run(services)
    with services.sessions() as s:
        msg = s.scalars(select(Message).where(Message.author == "bot")).one()
        assert (msg.status, msg.error_code, msg.attempts) == ("retrying", "20500", 1)
    assert fake_twilio.sent_to(PHONE) == []
    assert len(worker.release_scheduled(services)) == 1
    worker.run(services)
    [sent] = fake_twilio.wait_for(PHONE, 1)
    with services.sessions() as s:
        msg = s.scalars(select(Message).where(Message.author == "bot")).one()
        assert (msg.status, msg.attempts, msg.twilio_sid) == ("sent", 2, sent["sid"])


def test_twilio_63016_on_the_job_send_is_recorded_not_retried(whatsapp, services, fake_rasa, fake_twilio, worker):
    fake_rasa.delay = 1.5
    bodies(whatsapp("where is my order"))
    fake_twilio.fail_next(400, 63016, "Failed to send freeform message because you are outside the allowed window")
    worker.run(services)
    with services.sessions() as s:
        msg = s.scalars(select(Message).where(Message.author == "bot")).one()
        assert (msg.status, msg.error_code, msg.attempts) == ("failed", "63016", 1)
    assert worker.release_scheduled(services) == []
    assert fake_twilio.sent_to(PHONE) == []


# -- delivery status ---------------------------------------------------------------
def test_status_callback_updates_the_message(client, whatsapp, services, fake_twilio):
    bodies(whatsapp("hi"))
    result = services.sender.send(PHONE, "Your order is out for delivery", author="agent:asha")
    assert result.status == "sent"

    def status(sid, value, **extra):
        form = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": value, "SmsStatus": value, "AccountSid": "AC1",
                "From": "whatsapp:+14155238886", "To": f"whatsapp:{PHONE}", "ApiVersion": "2010-04-01", **extra}
        return signed_post(client, "/twilio/message-status", form)

    assert status(result.sid, "delivered").status_code == 200
    assert status(result.sid, "sent").status_code == 200  # late, out-of-order callback: no downgrade
    with services.sessions() as s:
        assert s.get(Message, result.message_id).status == "delivered"
    assert status(result.sid, "undelivered", ErrorCode="63024").status_code == 200
    with services.sessions() as s:
        msg = s.get(Message, result.message_id)
        assert (msg.status, msg.error_code) == ("undelivered", "63024")
    assert status("SMunknown", "delivered").status_code == 200
    assert signed_post(client, "/twilio/message-status", {"Garbage": "1"}).status_code == 200
    assert client.post("/twilio/message-status", data={"MessageSid": result.sid, "MessageStatus": "read"}).status_code == 403
    with services.sessions() as s:
        assert s.get(Message, result.message_id).status == "undelivered"
