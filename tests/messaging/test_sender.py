"""The outbound sender against a local fake Twilio, through twilio-python's http_client hook."""
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from messaging.sender import Template, WhatsAppSender
from messaging.twilio_client import make_client
from orderline.clock import Clock
from orderline.models import Message
from tests.support.fake_twilio import FakeTwilio

SID, TOKEN = "AC" + "1" * 32, "fake-auth-token"
PHONE = "+919000000002"


@pytest.fixture
def fake():
    fake = FakeTwilio(SID, TOKEN)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def sender(services, fake):
    services.redis.flushdb()
    settings = replace(services.settings, twilio_account_sid=SID, twilio_auth_token=TOKEN,
                       twilio_api_base_url=fake.base_url, twilio_whatsapp_from="whatsapp:+14155238886")
    retries: list[tuple[int, int]] = []
    s = WhatsAppSender(settings, services.sessions, services.conversations, services.clock, make_client(settings),
                       schedule_retry=lambda mid, delay: retries.append((mid, delay)))
    s.retries = retries  # type: ignore[attr-defined]
    return s


def row(services, message_id):
    with services.sessions() as s:
        return s.get(Message, message_id)


def test_inside_window_sends_text(services, sender, fake):
    services.conversations.record_inbound(PHONE, "whatsapp", "hi", sid="SMin1")
    result = sender.send(PHONE, "Your order is out for delivery", author="agent:asha")
    assert result.status == "sent" and result.sid.startswith("SM")
    [msg] = fake.sent_to(PHONE)
    assert msg["body"] == "Your order is out for delivery" and msg["from"] == "whatsapp:+14155238886"
    assert msg["status_callback"].endswith("/twilio/message-status")
    assert row(services, result.message_id).twilio_sid == result.sid


def test_outside_window_uses_template_or_refuses(services, sender, fake):
    refused = sender.send(PHONE, "free text")
    assert refused.status == "refused" and "24-hour" in refused.reason
    assert fake.sent_to(PHONE) == []
    sent = sender.send(PHONE, "Order shipped", template=Template("HX123", {"1": "OL-100231"}))
    assert sent.status == "sent"
    [msg] = fake.sent_to(PHONE)
    assert msg["content_sid"] == "HX123" and msg["body"] is None


def test_window_closes_after_24_hours(services, sender, fake):
    services.conversations.record_inbound(PHONE, "whatsapp", "hi", sid="SMold")
    store = services.conversations
    store.clock = Clock.fixed(services.clock.now() + timedelta(hours=25))
    assert not store.window_open(PHONE)
    assert sender.send(PHONE, "late reply").status == "refused"


def test_opted_out_customer_gets_nothing(services, sender, fake):
    services.conversations.record_inbound(PHONE, "whatsapp", "STOP", sid="SMstop")
    services.conversations.set_opt_out(PHONE, True)
    assert sender.send(PHONE, "hello").status == "refused"
    assert fake.sent_to(PHONE) == []


def test_transient_error_is_retried_then_sent(services, sender, fake):
    services.conversations.record_inbound(PHONE, "whatsapp", "hi", sid="SMin2")
    fake.fail_next(500, 20500, "Internal Server Error")
    first = sender.send(PHONE, "retry me")
    assert first.status == "retrying" and sender.retries == [(first.message_id, 5)]
    assert row(services, first.message_id).error_code == "20500"
    second = sender.deliver(first.message_id)
    assert second.status == "sent" and len(fake.sent_to(PHONE)) == 1
    assert sender.deliver(first.message_id).status == "sent"  # delivering again sends nothing more
    assert len(fake.sent_to(PHONE)) == 1


def test_permanent_error_is_recorded_not_retried(services, sender, fake):
    services.conversations.record_inbound(PHONE, "whatsapp", "hi", sid="SMin3")
    fake.fail_next(400, 63016, "Failed to send freeform message because you are outside the allowed window.")
    result = sender.send(PHONE, "nope")
    assert result.status == "failed" and sender.retries == []
    msg = row(services, result.message_id)
    assert (msg.status, msg.error_code) == ("failed", "63016")


def test_no_credentials_means_local_outbox(services, fake):
    local = WhatsAppSender(services.settings, services.sessions, services.conversations, services.clock, None)
    services.conversations.record_inbound(PHONE, "whatsapp", "hi", sid="SMin4")
    result = local.send(PHONE, "kept locally")
    assert result.status == "outbox" and fake.messages == []
    assert services.conversations.transcript(PHONE)[-1]["status"] == "outbox"


def test_status_callback_moves_forward_only(services, sender, fake):
    services.conversations.record_inbound(PHONE, "whatsapp", "hi", sid="SMin5")
    result = sender.send(PHONE, "track me")
    assert sender.record_status(result.sid, "delivered")
    assert sender.record_status(result.sid, "sent")  # late, out of order
    assert row(services, result.message_id).status == "delivered"
    assert sender.record_status(result.sid, "read") and row(services, result.message_id).status == "read"
    assert not sender.record_status("SMunknown", "delivered")


def slow_sender(services, fake, timeout):
    settings = replace(services.settings, twilio_account_sid=SID, twilio_auth_token=TOKEN,
                       twilio_api_base_url=fake.base_url, twilio_whatsapp_from="whatsapp:+14155238886")
    retries: list[tuple[int, int]] = []
    s = WhatsAppSender(settings, services.sessions, services.conversations, services.clock,
                       make_client(settings, timeout=timeout), schedule_retry=lambda mid, delay: retries.append((mid, delay)))
    s.retries = retries  # type: ignore[attr-defined]
    return s


def test_no_answer_in_time_is_checked_with_twilio_before_any_resend(services, fake):
    """A timeout may hide a message Twilio accepted: the retry asks Twilio instead of sending again."""
    services.redis.flushdb()
    sender = slow_sender(services, fake, timeout=0.5)
    services.conversations.record_inbound(PHONE, "whatsapp", "hi", sid="SMin6")
    fake.delay = 1.5
    first = sender.send(PHONE, "did it go?")
    assert first.status == "retrying" and sender.retries == [(first.message_id, 5)]
    assert row(services, first.message_id).status == "sending"  # unknown, not "retrying"
    fake.delay = 0
    again = sender.retry(first.message_id)
    assert again.status == "sent" and again.sid == fake.sent_to(PHONE)[0]["sid"]
    assert len(fake.sent_to(PHONE)) == 1


def test_a_refused_connection_is_simply_retried(services, fake):
    services.redis.flushdb()
    settings = replace(services.settings, twilio_account_sid=SID, twilio_auth_token=TOKEN,
                       twilio_api_base_url="http://127.0.0.1:9", twilio_whatsapp_from="whatsapp:+14155238886")
    down = WhatsAppSender(settings, services.sessions, services.conversations, services.clock, make_client(settings))
    services.conversations.record_inbound(PHONE, "whatsapp", "hi", sid="SMin7")
    result = down.send(PHONE, "anyone there?")
    assert result.status == "retrying" and row(services, result.message_id).status == "retrying"


def test_a_late_failure_never_undoes_a_recovery(services, fake):
    """A worker that went quiet and a recovery that adopted its message: the late timeout loses."""
    services.redis.flushdb()
    sender = slow_sender(services, fake, timeout=2)
    services.conversations.record_inbound(PHONE, "whatsapp", "hi", sid="SMin8")
    prepared = sender.prepare(PHONE, "slow one")
    fake.delay = 3
    late = []
    worker = threading.Thread(target=lambda: late.append(sender.deliver(prepared.message_id)))
    worker.start()
    assert len(fake.wait_for(PHONE, 1, timeout=5)) == 1
    adopted = sender.recover(prepared.message_id, stuck_after=timedelta(0))
    assert adopted.status == "sent"
    worker.join(10)
    assert late[0].status == "sent" and late[0].sid == adopted.sid and sender.retries == []
    assert row(services, prepared.message_id).status == "sent" and len(fake.sent_to(PHONE)) == 1
