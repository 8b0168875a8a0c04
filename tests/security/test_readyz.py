"""Attack: ask /readyz from the internet which part of the stack is down, and how.

Outside callers learn ready or not (the status code a load balancer needs); the component
states are for the internal network or a caller with the API token.
"""
from __future__ import annotations

import dataclasses

import pytest

from wiring import create_app

OUTSIDE = {"REMOTE_ADDR": "81.2.69.142"}


def test_outsiders_learn_only_ready_or_not(client, auth):
    resp = client.get("/readyz", environ_base=OUTSIDE)
    assert resp.status_code == 503 and resp.json == {"status": "not_ready"}  # Rasa is down in tests
    spoofed = client.get("/readyz", environ_base=OUTSIDE, headers={"X-Forwarded-For": "10.0.0.5"})
    assert spoofed.json == {"status": "not_ready"}  # no trusted proxy: the header is not believed
    wrong = client.get("/readyz", environ_base=OUTSIDE, headers={"Authorization": "Bearer nope"})
    assert "checks" not in wrong.json


def test_the_token_or_the_internal_network_sees_the_components(client, auth):
    with_token = client.get("/readyz", environ_base=OUTSIDE, headers=auth).json
    inside = client.get("/readyz", environ_base={"REMOTE_ADDR": "10.1.2.3"}).json
    for body in (with_token, inside):
        assert body["checks"]["database"] == "ok" and body["checks"]["rasa"].startswith("error"), body


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_behind_a_trusted_proxy_the_client_address_counts(settings, services):
    app = create_app(dataclasses.replace(settings, trusted_proxies=1), services)
    client = app.test_client()
    # The proxy (on the internal network) appends the address it saw; whatever the client wrote comes before.
    forwarded = {"X-Forwarded-For": "10.0.0.5, 81.2.69.142"}
    assert "checks" not in client.get("/readyz", environ_base={"REMOTE_ADDR": "10.0.0.1"}, headers=forwarded).json
    inside = {"X-Forwarded-For": "10.0.0.7"}
    assert "checks" in client.get("/readyz", environ_base={"REMOTE_ADDR": "10.0.0.1"}, headers=inside).json
