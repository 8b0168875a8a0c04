"""Sign-in, sessions and CSRF for the console; the machine endpoints stay token-free."""
from __future__ import annotations

import pytest

from tests.support.agent_console import PASSWORD, csrf_from, page_token, sign_in

PAGES = ["/agent/", "/agent/conversations/+919000000001", "/agent/escalations/1"]
API_GETS = ["/agent/api/queue", "/agent/api/conversations/+919000000001", "/agent/api/events"]
API_POSTS = ["/agent/api/escalations/1/claim", "/agent/api/conversations/+919000000001/reply",
             "/agent/api/conversations/+919000000001/note", "/agent/api/escalations/1/resolve",
             "/agent/api/escalations/1/handback"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_anonymous_agents_to_sign_in(client, path):
    resp = client.get(path)
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/agent/login?next=")


@pytest.mark.parametrize("path", API_GETS)
def test_api_reads_need_a_session(client, path):
    resp = client.get(path)
    assert resp.status_code == 401 and resp.json["error"] == "unauthorized"


@pytest.mark.parametrize("path", API_POSTS)
def test_api_actions_need_a_session(client, path):
    resp = client.post(path, json={"text": "hi"})
    assert resp.status_code == 401 and resp.json["error"] == "unauthorized"


def test_form_actions_need_a_session(client, services, open_escalation):
    esc = open_escalation()
    resp = client.post(f"/agent/escalations/{esc['id']}/claim")
    assert resp.status_code == 302 and "/agent/login" in resp.headers["Location"]
    assert services.escalations.get(esc.id).status == "open"


def test_sign_in_then_queue(client, asha):
    page = client.get("/agent/login")
    assert page.status_code == 200 and b'type="password"' in page.data
    resp = sign_in(client, "asha")
    assert resp.status_code == 302 and resp.headers["Location"] == "/agent/"
    queue = client.get("/agent/")
    assert queue.status_code == 200 and b"asha" in queue.data and b"Queue" in queue.data


def test_session_cookie_is_http_only_and_same_site(client, asha):
    resp = sign_in(client, "asha")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_passwords_are_stored_hashed(services, asha):
    from orderline.models import Agent

    with services.sessions() as session:
        stored = session.get(Agent, asha.id).password_hash
    assert PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


@pytest.mark.parametrize("name,password", [("asha", "wrong password"), ("nobody", PASSWORD), ("asha", "")])
def test_wrong_credentials_are_refused(client, asha, name, password):
    resp = sign_in(client, name, password)
    assert resp.status_code == 401
    assert b"Wrong agent name or password" in resp.data or b"fill in both" in resp.data
    assert client.get("/agent/").status_code == 302


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(client, asha):
    token = csrf_from(client.get("/agent/login").get_data(as_text=True))
    resp = client.post("/agent/login?next=/agent/conversations/%2B919000000001",
                       data={"name": "asha", "password": PASSWORD, "csrf_token": token})
    assert resp.headers["Location"] == "/agent/conversations/+919000000001"
    client.post("/agent/logout", data={"csrf_token": page_token(client)})
    for evil in ("https://evil.example/agent/", "//evil.example/agent/", "/api/v1/orders"):
        token = csrf_from(client.get("/agent/login").get_data(as_text=True))
        resp = client.post("/agent/login", query_string={"next": evil},
                           data={"name": "asha", "password": PASSWORD, "csrf_token": token})
        assert resp.headers["Location"] == "/agent/", evil
        client.post("/agent/logout", data={"csrf_token": page_token(client)})


def test_sign_in_without_csrf_token_is_rejected(client, asha):
    resp = client.post("/agent/login", data={"name": "asha", "password": PASSWORD})
    assert resp.status_code == 400
    assert client.get("/agent/").status_code == 302


def test_form_post_without_csrf_is_rejected(as_asha, services, open_escalation):
    esc = open_escalation()
    resp = as_asha.post(f"/agent/escalations/{esc['id']}/claim")
    assert resp.status_code == 400 and b"expired" in resp.data
    resp = as_asha.post(f"/agent/escalations/{esc['id']}/claim", data={"csrf_token": "forged"})
    assert resp.status_code == 400
    assert services.escalations.get(esc.id).status == "open"


def test_api_post_without_csrf_header_is_rejected(as_asha, services, open_escalation, fake_twilio):
    esc = open_escalation()
    resp = as_asha.post("/agent/api/conversations/+919000000001/reply", json={"text": "Hello"})
    assert resp.status_code == 400 and resp.json["error"] == "csrf"
    assert fake_twilio.sent_to("+919000000001") == []
    resp = as_asha.post(f"/agent/api/escalations/{esc['id']}/claim", json={},
                        headers={"X-CSRFToken": page_token(as_asha)})
    assert resp.status_code == 200 and resp.json["result"] == "claimed"


def test_logout_needs_post_with_csrf_and_ends_the_session(as_asha):
    assert as_asha.get("/agent/logout").status_code == 405
    assert as_asha.post("/agent/logout").status_code == 400
    assert as_asha.get("/agent/").status_code == 200
    resp = as_asha.post("/agent/logout", data={"csrf_token": page_token(as_asha)})
    assert resp.status_code == 302
    assert as_asha.get("/agent/").status_code == 302


def test_machine_endpoints_need_no_csrf_token(app, as_asha, auth, demo):
    """A console session must not make CSRF apply to the bearer-token API (same client, same cookies)."""
    resp = as_asha.post("/api/v1/escalations", json={"reason": "general", "phone": "+919000000003"}, headers=auth)
    assert resp.status_code == 201, resp.data
    assert app.config["WTF_CSRF_CHECK_DEFAULT"] is False


def test_twilio_webhooks_need_no_csrf_token(client, settings, demo):
    from edge.twilio_auth import sign

    form = {"MessageSid": "SM" + "c" * 32, "AccountSid": settings.twilio_account_sid, "MessageStatus": "delivered",
            "To": "whatsapp:+919000000001", "From": settings.twilio_whatsapp_from}
    url = settings.public_base_url + "/twilio/message-status"
    resp = client.post("/twilio/message-status", data=form,
                       headers={"X-Twilio-Signature": sign(settings.twilio_auth_token, url, form)})
    assert resp.status_code in (200, 204), resp.data
