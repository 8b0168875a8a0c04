"""Cookie sessions: the console's sign-in works; machine endpoints never touch a cookie."""
import pytest
from itsdangerous import BadSignature

from console.agents import create_agent
from tests.support.agent_console import PASSWORD, sign_in
from tests.support.values import demo_id
from edge.sessions import BrowserSessions


def test_machine_endpoints_get_no_session(app, client, auth, demo):
    sessions = app.session_interface
    assert isinstance(sessions, BrowserSessions)
    for path, null in (("/healthz", True), ("/api/v1/orders", True), ("/webhooks/shiprocket", True),
                       ("/twilio/voice", True), ("/agent/login", False), ("/try/", False)):
        with app.test_request_context(path, headers={"Cookie": "session=anything"}) as ctx:
            assert sessions.is_null_session(sessions.open_session(app, ctx.request)) is null, path
    for resp in (client.get("/healthz"), client.get(f"/api/v1/orders/{demo_id(demo, 'in_transit')}", headers=auth),
                 client.post("/webhooks/shiprocket", json={}, headers={"x-api-key": "wrong"}),
                 client.post("/twilio/whatsapp", data={"Body": "hi"})):
        assert resp.status_code in (200, 401, 403) and "Set-Cookie" not in resp.headers


def test_the_console_still_signs_in(app, services):
    create_agent(services.sessions, "meera", PASSWORD)
    client = app.test_client()
    assert "Set-Cookie" in client.get("/agent/login").headers  # the CSRF token lives in the session
    assert sign_in(client, "meera").status_code == 302
    assert client.get("/agent/").status_code == 200  # the signed cookie round-trips
    assert app.test_client().get("/agent/").status_code == 302  # and without it: the sign-in page


def test_the_signing_serializer_is_built_once_per_key(app):
    sessions = app.session_interface
    first = sessions.get_signing_serializer(app)
    assert sessions.get_signing_serializer(app) is first
    cookie = first.dumps({"_user_id": "1"})
    app.secret_key = "rotated"
    rotated = sessions.get_signing_serializer(app)
    assert rotated is not first
    with pytest.raises(BadSignature):  # a cookie signed with the old key is refused
        rotated.loads(cookie, max_age=60)
