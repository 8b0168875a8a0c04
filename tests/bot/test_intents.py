"""The assistant's intent is stored on the customer's WhatsApp message, without delaying the reply.

The fake Rasa parses a text like Rasa's `POST /model/parse`. The request runs on the app's
background threads; `intents.drain()` waits for them.
"""
from __future__ import annotations

import threading
import time

from sqlalchemy import select

from edge import intents
from bot.rasa_client import RasaClient
from orderline.models import Message
from tests.support.whatsapp import PHONE


def inbound(services, text: str) -> Message:
    with services.sessions() as session:
        return session.scalars(select(Message).where(Message.direction == "in", Message.text == text)
                               .order_by(Message.id.desc())).first()


def test_intent_is_recorded_without_delaying_the_reply(whatsapp, services, fake_rasa):
    fake_rasa.parse_delay = 0.6  # a slow parse, well inside the timeout
    started = time.monotonic()
    resp = whatsapp("where is my order")
    elapsed = time.monotonic() - started
    assert resp.status_code == 200 and "You said: where is my order" in resp.get_data(as_text=True)
    assert elapsed < 0.5  # the reply did not wait for the parse
    assert intents.drain()
    msg = inbound(services, "where is my order")
    assert (msg.intent, msg.confidence) == ("order_status", 0.91)
    assert fake_rasa.parse_calls == ["where is my order"]


def test_a_numbered_button_reply_records_the_payload_intent(whatsapp, services, fake_rasa):
    whatsapp("hi")  # the greeting offers "Track my order" as button 1
    assert intents.drain() and inbound(services, "hi").intent == "greet"
    whatsapp("1")
    assert intents.drain()
    msg = inbound(services, "1")
    assert (msg.intent, msg.confidence) == ("order_status", 1.0)
    assert fake_rasa.heard(PHONE)[-1]["message"] == "/order_status"


def test_parse_failure_or_slowness_never_touches_the_reply(whatsapp, services, fake_rasa):
    fake_rasa.parse_status = 500
    resp = whatsapp("where is my order")
    assert intents.drain() and "You said" in resp.get_data(as_text=True)
    assert inbound(services, "where is my order").intent is None

    fake_rasa.parse_status, fake_rasa.parse_delay = 200, 0.6
    resp = whatsapp("my order please")
    assert "You said: my order please" in resp.get_data(as_text=True)
    late = inbound(services, "my order please")
    assert intents.record_parse(services.rasa, services.conversations, late.id, PHONE, "my order please",
                                timeout=0.2) is None  # a request that times out stores nothing
    assert intents.drain() and len(fake_rasa.parse_calls) == 3


def test_each_message_gets_the_parse_of_its_own_text(services, fake_rasa):
    """The customer's next message reached Rasa before the first one's parse was asked for."""
    first = services.conversations.record_inbound(PHONE, "whatsapp", "where is my order")
    services.rasa.send(PHONE, "where is my order", {})
    services.rasa.send(PHONE, "hello", {})
    parse = intents.record_parse(services.rasa, services.conversations, first.message_id, PHONE,
                                 "where is my order")
    assert parse is not None and inbound(services, "where is my order").intent == "order_status"
    assert fake_rasa.parse_calls == ["where is my order"]


def test_messages_rasa_never_hears_get_no_intent_and_no_parse(whatsapp, services, fake_rasa):
    whatsapp("STOP")
    assert intents.drain()
    assert inbound(services, "STOP").intent is None and fake_rasa.parse_calls == []


def test_the_background_turn_records_the_intent_too(whatsapp, services, fake_rasa, worker):
    fake_rasa.delay = 1.3  # over RASA_TIMEOUT (1 s): holding reply now, answer from the job
    resp = whatsapp("where is my order")
    assert "one moment" in resp.get_data(as_text=True)
    assert intents.drain() and inbound(services, "where is my order").intent is None
    jobs = worker.run(services)
    assert [j.get_status() for j in jobs] == ["finished"] and jobs[0].return_value() == "answered"
    assert inbound(services, "where is my order").intent == "order_status"


def test_a_full_queue_drops_intents_instead_of_waiting(app):
    """With Rasa stuck, recording falls behind; past QUEUE_LIMIT turns it gives up, never blocks."""
    blocked, ran = threading.Event(), []
    with app.test_request_context():
        for _ in range(intents.THREADS):
            intents.after_response(lambda: blocked.wait(10))  # every background thread is stuck
        deadline = time.monotonic() + 5
        while intents._work.qsize() and time.monotonic() < deadline:
            time.sleep(0.01)
        for i in range(intents.QUEUE_LIMIT):
            intents.after_response(lambda i=i: ran.append(i))
        started = time.monotonic()
        intents.after_response(lambda: ran.append(-1))  # one too many: dropped at once
        assert time.monotonic() - started < 0.1
    blocked.set()
    assert intents.drain()
    assert len(ran) == intents.QUEUE_LIMIT and -1 not in ran


def test_parse_reads_and_bounds_rasas_answer(fake_rasa):
    client = RasaClient(fake_rasa.base_url, channel_secret=fake_rasa.secret, auth_token=fake_rasa.token)
    fake_rasa.parse = lambda text: {"name": "x" * 60, "confidence": 1.7}
    parse = client.parse("anything")
    assert parse is not None and parse.text == "anything"
    assert (parse.intent, parse.confidence) == ("x" * 40, 1.0)
    fake_rasa.parse = lambda text: {"name": None, "confidence": None}
    assert client.parse("anything") is None
    assert RasaClient("http://127.0.0.1:9").parse("anything", timeout=0.2) is None
