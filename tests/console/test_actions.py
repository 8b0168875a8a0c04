"""Claim, take over, reply, note, resolve and hand back, through the console's forms and JSON API."""
from __future__ import annotations

import logging

from rq.job import Job
from rq.registry import ScheduledJobRegistry

from wiring.jobs import SERIALIZER
from sqlalchemy import select

from console.actions import HANDED_BACK_TEXT, RESOLVED_TEXT
from orderline.handback import mark_key
from orderline.models import AuditLog, Escalation, Message
from tests.support.agent_console import PHONE, post_form, post_json
from tests.support.fake_rasa import resume_events

CONV = f"/agent/conversations/{PHONE}"
API_CONV = f"/agent/api/conversations/{PHONE}"


def messages(services, **where):
    with services.sessions() as session:
        rows = session.scalars(select(Message).order_by(Message.id)).all()
    return [m for m in rows if all(getattr(m, k) == v for k, v in where.items())]


def test_claim_moves_the_conversation_to_the_agent(as_asha, services, open_escalation):
    esc = open_escalation()
    assert services.conversations.state(PHONE) == "waiting_for_agent"
    page = post_form(as_asha, f"/agent/escalations/{esc['id']}/claim")
    assert page.status_code == 200 and b"You have claimed this conversation" in page.data
    got = services.escalations.get(esc.id)
    assert got.status == "claimed" and got.agent == "asha"
    assert services.conversations.state(PHONE) == "agent"


def test_another_agents_claim_needs_an_explicit_takeover(as_asha, as_ravi, services, open_escalation):
    esc = open_escalation()
    post_form(as_asha, f"/agent/escalations/{esc['id']}/claim")

    page = post_form(as_ravi, f"/agent/escalations/{esc['id']}/claim")
    assert b"Claimed by asha" in page.data and b"Take over from asha" in page.data
    assert services.escalations.get(esc.id).agent == "asha"
    api = post_json(as_ravi, f"/agent/api/escalations/{esc['id']}/claim")
    assert api.status_code == 409 and api.json["result"] == "conflict" and api.json["holder"] == "asha"

    page = post_form(as_ravi, f"/agent/escalations/{esc['id']}/claim", {"takeover": "1"})
    assert b"You took this conversation over from asha" in page.data
    assert services.escalations.get(esc.id).agent == "ravi"
    with services.sessions() as session:
        audit = session.scalars(select(AuditLog).where(AuditLog.entity == "escalation",
                                                       AuditLog.entity_id == str(esc.id))).all()
    assert [(a.actor, a.action) for a in audit] == [("agent:ravi", "takeover")]


def test_no_action_on_another_agents_conversation_without_takeover(as_asha, as_ravi, services, open_escalation,
                                                                   fake_twilio, fake_rasa):
    esc = open_escalation()
    post_form(as_asha, f"/agent/escalations/{esc['id']}/claim")
    for path, data in [(f"{CONV}/reply", {"text": "Hi from Ravi"}), (f"{CONV}/note", {"text": "ravi was here"}),
                       (f"/agent/escalations/{esc['id']}/resolve", {}),
                       (f"/agent/escalations/{esc['id']}/handback", {})]:
        page = post_form(as_ravi, path, data)
        assert b"laimed by asha" in page.data or b"another agent holds" in page.data, path
    assert fake_twilio.sent_to(PHONE) == []
    assert fake_rasa.events == []
    assert messages(services, author="agent:ravi") == []
    got = services.escalations.get(esc.id)
    assert (got.status, got.agent) == ("claimed", "asha")
    assert services.conversations.state(PHONE) == "agent"


def test_reply_inside_the_window_is_sent_to_twilio(as_asha, services, open_escalation, fake_twilio):
    esc = open_escalation()  # the customer wrote just now: the 24-hour window is open
    page = post_form(as_asha, f"{CONV}/reply", {"text": "Hi Asha, your refund was issued today."})
    assert b"Sent over WhatsApp." in page.data
    sent = fake_twilio.wait_for(PHONE, 1)
    assert [m["body"] for m in sent] == ["Hi Asha, your refund was issued today."]
    assert sent[0]["from"] == "whatsapp:+14155238886"
    row = messages(services, author="agent:asha")[0]
    assert (row.direction, row.channel, row.status, row.twilio_sid) == ("out", "whatsapp", "sent", sent[0]["sid"])
    got = services.escalations.get(esc.id)
    assert got.agent == "asha" and got.first_reply_at == services.clock.now().isoformat()
    assert b"your refund was issued today" in page.data  # in the transcript


def test_first_reply_time_is_kept(as_asha, services, open_escalation, fake_twilio):
    esc = open_escalation()
    post_json(as_asha, f"{API_CONV}/reply", {"text": "first"})
    with services.sessions() as session:
        session.get(Escalation, esc.id).first_reply_at = services.clock.now().replace(hour=9)
        session.commit()
    resp = post_json(as_asha, f"{API_CONV}/reply", {"text": "second"})
    assert resp.status_code == 200 and resp.json["result"] == "sent"
    assert resp.json["escalation"]["first_reply_at"].startswith(services.clock.now().date().isoformat() + "T09:")
    assert len(fake_twilio.wait_for(PHONE, 2)) == 2


def test_reply_outside_the_window_is_refused_with_the_reason(as_asha, services, open_escalation, fake_twilio):
    esc = open_escalation(inbound=None)  # escalated by voice/API: no WhatsApp message in 24 hours
    page = post_form(as_asha, f"{CONV}/reply", {"text": "Hello?"})
    assert b"Not sent: outside WhatsApp&#39;s 24-hour window" in page.data
    assert b"window is closed" in page.data
    api = post_json(as_asha, f"{API_CONV}/reply", {"text": "Hello again?"})
    assert api.status_code == 409 and api.json["result"] == "refused" and "24-hour" in api.json["reason"]
    assert fake_twilio.sent_to(PHONE) == []
    assert [m.status for m in messages(services, author="agent:asha")] == ["refused", "refused"]
    assert services.escalations.get(esc.id).first_reply_at is None


def test_reply_needs_an_open_escalation_and_text(as_asha, services, demo, fake_twilio):
    services.conversations.record_inbound(PHONE, "whatsapp", "hi")
    page = post_form(as_asha, f"{CONV}/reply", {"text": "Hello"})
    assert b"The bot has this conversation" in page.data
    assert post_json(as_asha, f"{API_CONV}/reply", {"text": "   "}).status_code == 422
    assert fake_twilio.sent_to(PHONE) == []


def test_internal_note_is_stored_and_never_sent(as_asha, services, open_escalation, fake_twilio):
    open_escalation()
    page = post_form(as_asha, f"{CONV}/note", {"text": "Refund stuck at the bank; call back Monday."})
    assert b"Note added" in page.data and b"Refund stuck at the bank" in page.data
    notes = messages(services, direction="note")
    assert [(n.channel, n.author, n.status, n.text) for n in notes] == [
        ("console", "agent:asha", "note", "Refund stuck at the bank; call back Monday.")]
    assert fake_twilio.sent_to(PHONE) == []
    transcript = services.conversations.transcript(PHONE)
    assert transcript[-1]["direction"] == "note"


def test_resolve_gives_the_conversation_back_and_tells_the_customer(as_asha, services, open_escalation,
                                                                    fake_twilio, fake_rasa):
    esc = open_escalation()
    post_form(as_asha, f"/agent/escalations/{esc['id']}/claim")
    page = post_form(as_asha, f"/agent/escalations/{esc['id']}/resolve")
    assert b"Resolved; the bot has the conversation again. The customer was told." in page.data
    got = services.escalations.get(esc.id)
    assert (got.status, got.resolution) == ("resolved", "resolved")
    assert services.conversations.state(PHONE) == "bot"
    assert fake_rasa.events == resume_events(PHONE)
    assert [m["body"] for m in fake_twilio.wait_for(PHONE)] == [RESOLVED_TEXT]
    again = post_form(as_asha, f"/agent/escalations/{esc['id']}/resolve")
    assert b"already resolved" in again.data


def test_hand_back_returns_the_conversation_to_the_bot(as_asha, services, open_escalation, fake_twilio, fake_rasa):
    esc = open_escalation()
    post_form(as_asha, f"/agent/escalations/{esc['id']}/claim")
    post_form(as_asha, f"{CONV}/reply", {"text": "Done, anything else?"})
    resp = post_json(as_asha, f"/agent/api/escalations/{esc['id']}/handback")
    assert resp.status_code == 200 and resp.json["result"] == "handed_back"
    assert resp.json["rasa_resumed"] is True and resp.json["customer_notice"] == "sent"
    got = services.escalations.get(esc.id)
    assert (got.status, got.resolution, got.conversation_state) == ("resolved", "handed_back", "bot")
    assert services.conversations.state(PHONE) == "bot"
    with services.sessions() as session:  # the DB, not only the Redis cache
        from orderline.models import Conversation
        assert session.scalars(select(Conversation.state).where(Conversation.phone == PHONE)).one() == "bot"
    assert fake_rasa.events == resume_events(PHONE)
    assert [m["body"] for m in fake_twilio.wait_for(PHONE, 2)] == ["Done, anything else?", HANDED_BACK_TEXT]
    assert services.escalations.list("active") == []


def test_hand_back_still_happens_when_rasa_is_down_and_the_un_pause_is_retried(as_asha, services, open_escalation,
                                                                                fake_rasa, caplog):
    esc = open_escalation()
    fake_rasa.stop()
    with caplog.at_level(logging.WARNING):
        page = post_form(as_asha, f"/agent/escalations/{esc['id']}/handback")
    assert b"Handed back to the bot." in page.data and b"Rasa could not be reached" in page.data
    assert b"retried in the background" in page.data
    assert services.conversations.state(PHONE) == "bot"
    assert any("did not accept the resume" in r.getMessage() for r in caplog.records)
    token = services.redis.get(mark_key(PHONE)).decode()  # the retries of this hand-back
    jobs = [Job.fetch(i, connection=services.redis, serializer=SERIALIZER) for i in ScheduledJobRegistry(queue=services.queue).get_job_ids()]
    ours = [(j.func_name, j.args) for j in jobs if token in j.args]
    assert ours == [("wiring.worker.resume_assistant", [PHONE, token, 1])]


def test_unknown_escalation_and_bad_phone(as_asha):
    assert post_json(as_asha, "/agent/api/escalations/999/claim").status_code == 404
    assert as_asha.get("/agent/escalations/999").status_code == 404
    assert as_asha.get("/agent/conversations/not-a-phone").status_code == 404
    resp = as_asha.get("/agent/api/conversations/not-a-phone")
    assert resp.status_code == 404 and resp.json["error"] == "not_found"
