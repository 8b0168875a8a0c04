"""The WhatsApp channel's test parts: the suite's Twilio account, the form Twilio posts, signed posts,
and reading the TwiML reply."""
from __future__ import annotations

import dataclasses
import socket
import uuid
import xml.etree.ElementTree as ET
from typing import Any, Optional

from edge.twilio_auth import sign

SID, TOKEN = "AC" + "7" * 32, "wa-test-auth-token"
PUBLIC = "https://example.test"
PHONE = "+919000000002"


def tuned(settings: Any, **values: Any) -> Any:
    """`dataclasses.replace` that also accepts channel settings Settings may not have yet."""
    missing = {k: v for k, v in values.items() if k not in {f.name for f in dataclasses.fields(settings)}}
    if missing:
        cls = dataclasses.make_dataclass(
            "ChannelTestSettings", [(k, type(v), dataclasses.field(default=v)) for k, v in missing.items()],
            bases=(type(settings),), frozen=True)
        settings = cls(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(settings) if f.init})
    return dataclasses.replace(settings, **values)


def closed_port() -> int:
    """A loopback port nothing listens on (for a service that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def twilio_form(body: str = "hi", phone: str = PHONE, sid: Optional[str] = None, **extra: str) -> dict[str, str]:
    """The fields Twilio really posts for an inbound WhatsApp message."""
    sid = sid or "SM" + uuid.uuid4().hex
    form = {"SmsMessageSid": sid, "NumMedia": "0", "ProfileName": "Priya", "MessageType": "text",
            "SmsSid": sid, "WaId": phone.lstrip("+"), "SmsStatus": "received", "Body": body,
            "To": "whatsapp:+14155238886", "NumSegments": "1", "ReferralNumMedia": "0", "MessageSid": sid,
            "AccountSid": SID, "From": f"whatsapp:{phone}", "ApiVersion": "2010-04-01"}
    form.update(extra)
    return form


def live_turn(stack: Any, phone: str, text: str, sid: str = "") -> str:
    """One WhatsApp message posted over HTTP to the running app (tests/support/live_stack.py), signed as
    Twilio signs it; the reply's text (failing on the holding reply or the apology)."""
    import requests

    from bot import routing
    from tests.support.live_stack import TWILIO_TOKEN

    form = twilio_form(text, phone, sid or None, ProfileName="Test", AccountSid=stack.settings.twilio_account_sid)
    signature = sign(TWILIO_TOKEN, stack.settings.public_base_url + "/twilio/whatsapp", form)
    resp = requests.post(stack.app_url + "/twilio/whatsapp", data=form, timeout=60,
                         headers={"X-Twilio-Signature": signature})
    assert resp.status_code == 200, resp.text
    reply = "\n".join(m.text or "" for m in ET.fromstring(resp.content))
    assert reply and reply not in (routing.HOLDING, routing.APOLOGY), reply
    return reply


def signed_post(client: Any, path: str, form: dict[str, str], query: str = "", token: str = TOKEN,
                public: str = PUBLIC, headers: Optional[dict[str, str]] = None):
    target = path + (f"?{query}" if query else "")
    all_headers = {"X-Twilio-Signature": sign(token, public + target, form)}
    all_headers.update(headers or {})
    return client.post(target, data=form, headers=all_headers)


def bodies(resp) -> list[str]:
    """The message bodies of a TwiML <Response> (checking it is one)."""
    assert resp.status_code == 200, resp.data
    assert resp.mimetype in ("application/xml", "text/xml")
    root = ET.fromstring(resp.data)
    assert root.tag == "Response"
    assert all(child.tag == "Message" for child in root)
    return [(m.find("Body").text if m.find("Body") is not None else m.text) or "" for m in root]
