"""Talk to the running app as a WhatsApp customer, without a Twilio account.

Posts a message to /twilio/whatsapp exactly as Twilio would (real form fields, signed with
TWILIO_AUTH_TOKEN, or the generated development token) and prints the TwiML reply's messages.

Usage: .venv/bin/python tools/say.py +919000000003 "where is my order"
"""
from __future__ import annotations

import argparse
import os
import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orderline.phones import normalise_phone  # noqa: E402
from orderline.settings import Settings  # noqa: E402
from edge.twilio_auth import sign  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description="Send one WhatsApp message to the local app, signed like Twilio.")
    parser.add_argument("phone", help="the customer's number, e.g. +919000000003 (demo numbers are +91 90000 000xx)")
    parser.add_argument("text")
    parser.add_argument("--app", default="http://localhost:5000", help="where the app listens")
    args = parser.parse_args()
    # A developer's tool for the app `make run` starts (which is development, with generated secrets).
    os.environ.setdefault("ORDERLINE_ENV", "development")
    settings = Settings.from_env()
    phone = normalise_phone(args.phone)
    sid = "SM" + uuid.uuid4().hex
    form = {"SmsMessageSid": sid, "NumMedia": "0", "ProfileName": "Demo customer", "MessageType": "text",
            "SmsSid": sid, "WaId": phone.lstrip("+"), "SmsStatus": "received", "Body": args.text,
            "To": settings.twilio_whatsapp_from or "whatsapp:+14155238886", "NumSegments": "1",
            "ReferralNumMedia": "0", "MessageSid": sid, "AccountSid": settings.twilio_account_sid or "AC" + "0" * 32,
            "From": f"whatsapp:{phone}", "ApiVersion": "2010-04-01"}
    # The app checks the signature against PUBLIC_BASE_URL, so sign for that URL and post locally.
    signature = sign(settings.twilio_auth_token, settings.public_base_url.rstrip("/") + "/twilio/whatsapp", form)
    resp = requests.post(args.app.rstrip("/") + "/twilio/whatsapp", data=form, timeout=60,
                         headers={"X-Twilio-Signature": signature})
    if resp.status_code != 200:
        print(f"HTTP {resp.status_code}: {resp.text[:300]}", file=sys.stderr)
        return 1
    for message in ET.fromstring(resp.content):
        body = message.find("Body")
        print((body.text if body is not None else message.text) or "")
        print("---")
    return 0


if __name__ == "__main__":
    sys.exit(main())
