"""The simulated customer's WhatsApp messages: Twilio's real inbound fields, sent to /twilio/whatsapp."""
from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from typing import Optional

from orderline.settings import Settings
from sim.app_client import AppClient, AppUnreachable

WHATSAPP_PATH = "/twilio/whatsapp"
SANDBOX_FROM = "whatsapp:+14155238886"


def inbound_form(settings: Settings, phone: str, text: str, profile_name: str,
                 sid: Optional[str] = None) -> dict[str, str]:
    """The form Twilio posts for one inbound WhatsApp text from `phone` (E.164)."""
    sid = sid or "SM" + uuid.uuid4().hex
    return {"SmsMessageSid": sid, "NumMedia": "0", "ProfileName": profile_name, "MessageType": "text",
            "SmsSid": sid, "WaId": phone.lstrip("+"), "SmsStatus": "received", "Body": text,
            "To": settings.twilio_whatsapp_from or SANDBOX_FROM, "NumSegments": "1", "ReferralNumMedia": "0",
            "MessageSid": sid, "AccountSid": settings.twilio_account_sid or "AC" + "0" * 32,
            "From": f"whatsapp:{phone}", "ApiVersion": "2010-04-01"}


def send(client: AppClient, phone: str, text: str, profile_name: str) -> list[str]:
    """Deliver one message to the app's webhook; returns the texts of its inline TwiML reply.

    Raises:
        SigningRefused: the simulator may not sign here.
        AppUnreachable: the app did not answer, or answered something Twilio would not accept.
    """
    timeout = client.settings.rasa_timeout + 20  # the webhook waits up to RASA_TIMEOUT for the assistant
    reply = client.twilio(WHATSAPP_PATH, inbound_form(client.settings, phone, text, profile_name), timeout)
    if reply.status != 200:
        raise AppUnreachable(f"{WHATSAPP_PATH} answered HTTP {reply.status}: {reply.body[:200]}")
    return reply_texts(reply.body)


def reply_texts(twiml: str) -> list[str]:
    """The <Message> texts of a Messaging TwiML reply."""
    try:
        root = ET.fromstring(twiml)
    except ET.ParseError as exc:
        raise AppUnreachable(f"{WHATSAPP_PATH} answered something that is not TwiML: {exc}") from exc
    texts = []
    for message in root.iter("Message"):
        body = message.find("Body")
        texts.append(((body.text if body is not None else message.text) or "").strip())
    return texts
