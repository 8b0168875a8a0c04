"""Attacks on the agent console's sign-in and sessions, driven through the HTTP front door.

The password check is scrypt (~32 MiB each). Every check that runs leaves a row in
`audit_log` (`sign_in` / `sign_in_failed`), so counting rows counts the scrypt runs: a
throttled attempt must leave none.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from console import throttle
from console.agents import create_agent
from orderline.models import AuditLog
from tests.support.agent_console import PASSWORD, csrf_from, page_token

ATTACKER = "81.2.69.142"


@pytest.fixture
def asha(services):
    return create_agent(services.sessions, "asha", PASSWORD)


def attempt(client, name: str, password: str, address: str, **headers: str):
    env = {"REMOTE_ADDR": address}
    token = csrf_from(client.get("/agent/login", environ_base=env).get_data(as_text=True))
    return client.post("/agent/login", data={"name": name, "password": password, "csrf_token": token},
                       environ_base=env, headers=headers)


def password_checks(services) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.entity == "agent", AuditLog.action.in_(("sign_in", "sign_in_failed"))))


def assert_throttled(resp) -> None:
    assert resp.status_code == 429, resp.status_code
    assert 0 < int(resp.headers["Retry-After"]) <= 15 * 60
    assert b"Too many sign-in attempts" in resp.data


def test_brute_force_from_one_address_is_throttled_before_the_password_check(client, services, asha):
    limit = throttle.PER_ADDRESS.attempts
    # Spread over many names, so only the per-address limit applies.
    answers = [attempt(client, f"agent{i % 25}", "guess-%d" % i, ATTACKER) for i in range(limit)]
    assert [r.status_code for r in answers] == [401] * limit
    assert password_checks(services) == limit
    for i in range(10):
        assert_throttled(attempt(client, f"agent{i}", "more-guesses", ATTACKER))
    assert_throttled(attempt(client, "asha", PASSWORD, ATTACKER))  # even the right password waits
    assert password_checks(services) == limit  # no scrypt ran for any throttled attempt
    assert client.get("/agent/", environ_base={"REMOTE_ADDR": ATTACKER}).status_code == 302
    # The agent, from her own address, is not locked out by someone else's guessing.
    assert attempt(client, "asha", PASSWORD, "81.2.69.200").status_code == 302


def test_rotating_x_forwarded_for_does_not_reset_the_count(client, services, asha):
    """No trusted proxy is configured, so the header is the attacker's own words."""
    limit = throttle.PER_ADDRESS.attempts
    for i in range(limit):
        attempt(client, f"agent{i % 25}", "guess", ATTACKER, **{"X-Forwarded-For": f"10.9.{i}.1"})
    assert_throttled(attempt(client, "agent1", "guess", ATTACKER, **{"X-Forwarded-For": "10.9.99.1"}))
    assert password_checks(services) == limit


def test_guessing_one_name_from_many_addresses_is_throttled(client, services, asha):
    limit = throttle.PER_NAME.attempts
    for i in range(limit):
        assert attempt(client, "asha", f"guess-{i}", f"81.2.70.{i}").status_code == 401
    for i in range(limit, limit + 5):  # fresh addresses do not help
        assert_throttled(attempt(client, "asha", f"guess-{i}", f"81.2.70.{i}"))
    assert_throttled(attempt(client, " ASHA ", "guess", "81.2.71.1"))  # nor does spelling the name differently
    assert password_checks(services) == limit
    create_agent(services.sessions, "ravi", PASSWORD)
    assert attempt(client, "ravi", PASSWORD, "81.2.71.2").status_code == 302  # other agents sign in as usual


def test_logout_ends_the_session_on_the_server(app, services, asha):
    agent = app.test_client()
    assert attempt(agent, "asha", PASSWORD, "10.0.0.8").status_code == 302
    stolen = agent.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/agent/").status_code == 200  # a copied cookie works while the sign-in lives

    assert agent.post("/agent/logout", data={"csrf_token": page_token(agent)}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/agent/").status_code == 302
    assert replay.get("/agent/api/queue").status_code == 401
    assert replay.get("/agent/api/events").status_code == 401
    assert thief.get("/agent/").status_code == 302  # the copy held before sign-out is dead as well


PAGES = ["/agent/login", "/agent/", "/agent/conversations/+919000000001", "/agent/insights",
         "/agent/api/queue", "/agent/static/console.js", "/agent/no-such-page"]


@pytest.mark.parametrize("path", PAGES)
def test_every_console_response_carries_the_browser_protections(app, asha, path):
    anonymous, client = app.test_client(), app.test_client()
    assert attempt(client, "asha", PASSWORD, "10.0.0.8").status_code == 302
    for resp in (anonymous.get(path), client.get(path)):
        assert resp.status_code in (200, 302, 401, 404), (path, resp.status_code)
        csp = resp.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Referrer-Policy"] == "same-origin"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in client.get("/healthz").headers  # the console's, not the API's


def test_production_cookies_are_secure(settings, services, asha):
    import dataclasses

    from wiring import create_app

    prod = create_app(dataclasses.replace(settings, orderline_env="production", twilio_auth_token="t",
                                          rasa_channel_secret="r"), services)
    cookie = prod.test_client().get("/agent/login").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
