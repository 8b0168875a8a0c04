"""The agent console's test parts: the suite's Twilio account, signing in, and posting its forms
with their CSRF tokens the way the browser does."""
from __future__ import annotations

import dataclasses
import re
from typing import Any

from tests.support.fake_twilio import FakeTwilio

SID, TOKEN = "AC" + "4" * 32, "console-test-auth-token"
PASSWORD = "correct horse battery"
PHONE = "+919000000001"  # a demo customer with orders (Asha Verma)
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def twilio_settings(settings: Any, fake_twilio: FakeTwilio, rasa_url: str) -> Any:
    """`settings` sending through `fake_twilio` and un-pausing conversations at `rasa_url`."""
    return dataclasses.replace(settings, twilio_account_sid=SID, twilio_auth_token=TOKEN,
                               twilio_api_base_url=fake_twilio.base_url,
                               twilio_whatsapp_from="whatsapp:+14155238886",
                               public_base_url="https://example.test", rasa_url=rasa_url)


def csrf_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def sign_in(client: Any, name: str, password: str = PASSWORD) -> Any:
    token = csrf_from(client.get("/agent/login").get_data(as_text=True))
    return client.post("/agent/login", data={"name": name, "password": password, "csrf_token": token})


def page_token(client: Any, path: str = "/agent/") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def post_form(client: Any, path: str, data: dict[str, str] | None = None, page: str = "/agent/") -> Any:
    """Post a console form the way the browser does: with the page's CSRF token, following the redirect."""
    return client.post(path, data={"csrf_token": page_token(client, page), **(data or {})}, follow_redirects=True)


def post_json(client: Any, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(path, json=body or {}, headers={"X-CSRFToken": page_token(client)})
