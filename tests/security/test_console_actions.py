"""Attacks on the console's order actions and reassignment, through the HTTP front door.

The rule (docs/console.md, "Acting on orders"): a signed-in agent, with the page's CSRF token,
may act on an order only when the customer's conversation has an active escalation, the order
is that customer's, and the agent holds the escalation or can claim it. Every refused attempt
must leave the order as it was and no audit row.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from console import throttle
from console.agents import create_agent
from orderline.escalations import OpenEscalation
from orderline.models import AuditLog
from tests.support.agent_console import PASSWORD, PHONE, page_token, post_json, sign_in

CONV = f"/agent/conversations/{PHONE}"
API_CONV = f"/agent/api/conversations/{PHONE}"
CANCEL = f"{CONV}/orders/OL-100221/cancel"  # Asha's placed COD order: cancellable
OTHER_PHONE = "+919000000003"  # OL-100241, out for delivery; its customer never asked for a person


@pytest.fixture
def agents(services):
    return [create_agent(services.sessions, name, PASSWORD) for name in ("asha", "ravi")]


@pytest.fixture
def as_asha(app, agents):
    client = app.test_client()
    assert sign_in(client, "asha").status_code == 302
    return client


@pytest.fixture
def escalated(services, demo):
    services.conversations.record_inbound(PHONE, "whatsapp", "cancel my order please")
    esc, _ = services.escalations.open(OpenEscalation(PHONE, reason="delivery", order_id="OL-100221"))
    return esc


def agent_audit_rows(services) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.actor.like("agent:%"),
                                                                               AuditLog.action != "sign_in"))


def untouched(services) -> bool:
    return services.orders.get("OL-100221").status == "placed" and agent_audit_rows(services) == 0


def test_no_session_no_action(client, services, escalated):
    form = client.post(CANCEL, data={"reason": "x"})
    assert form.status_code == 302 and "/agent/login" in form.headers["Location"]
    api = client.post(f"{API_CONV}/orders/OL-100221/cancel", json={"reason": "x"})
    assert api.status_code == 401
    assign = client.post(f"/agent/api/escalations/{escalated['id']}/assign", json={"agent": "asha"})
    assert assign.status_code == 401
    assert untouched(services) and services.escalations.get(escalated.id).assignee is None


def test_a_signed_in_agent_still_needs_the_csrf_token_of_her_own_session(app, as_asha, services, escalated):
    ravi = app.test_client()
    assert sign_in(ravi, "ravi").status_code == 302
    ravis_token = page_token(ravi, CONV)
    for headers, data in [({}, {"reason": "no token"}), ({}, {"reason": "ravi's", "csrf_token": ravis_token})]:
        assert as_asha.post(CANCEL, data=data, headers=headers).status_code == 400
    api = as_asha.post(f"{API_CONV}/orders/OL-100221/cancel", json={"reason": "x"}, headers={"X-CSRFToken": ravis_token})
    assert api.status_code == 400 and api.json["error"] == "csrf"
    assert untouched(services)


def test_a_tampered_order_id_reads_as_not_found(as_asha, services, escalated):
    # Another customer's order, through Asha's conversation, and an order that does not exist:
    # the same answer, so the console cannot be used to probe order ids.
    other = post_json(as_asha, f"{API_CONV}/orders/OL-100241/reschedule", {"date": "2026-11-30"})
    missing = post_json(as_asha, f"{API_CONV}/orders/OL-999999/reschedule", {"date": "2026-11-30"})
    assert other.status_code == missing.status_code == 404
    assert other.json["result"] == missing.json["result"] == "not_found"
    page = as_asha.post(f"{CONV}/orders/OL-100241/cancel",
                        data={"reason": "x", "csrf_token": page_token(as_asha, CONV)})
    assert page.status_code == 404
    assert services.orders.get("OL-100241").shipment.rescheduled_for is None
    assert post_json(as_asha, f"{API_CONV}/orders/OL-100221/refund-everything").status_code == 404
    assert untouched(services)


def test_no_action_on_an_order_outside_any_active_escalation(as_asha, services, escalated):
    resp = post_json(as_asha, f"/agent/api/conversations/{OTHER_PHONE}/orders/OL-100241/reschedule",
                     {"date": "2026-11-30"})
    assert resp.status_code == 409 and resp.json["result"] == "not_allowed"
    assert services.orders.get("OL-100241").shipment.rescheduled_for is None
    # Once the escalation is resolved, its orders are out of reach too.
    services.escalations.resolve(escalated.id, None)
    assert post_json(as_asha, f"{API_CONV}/orders/OL-100221/cancel", {"reason": "late"}).status_code == 409
    assert untouched(services)


def test_actions_are_throttled_per_agent(as_asha, services, escalated):
    limit = throttle.PER_AGENT_ACTIONS.attempts
    token = page_token(as_asha, CONV)
    bad_date = {"date": "not-a-date"}  # refused by the rule, so the order never changes while we count
    answers = [as_asha.post(f"{API_CONV}/orders/OL-100221/reschedule", json=bad_date, headers={"X-CSRFToken": token})
               for _ in range(limit)]
    assert all(r.status_code != 429 for r in answers)
    over = as_asha.post(CANCEL, data={"reason": "one too many", "csrf_token": token})
    assert over.status_code == 429 and 0 < int(over.headers["Retry-After"]) <= throttle.PER_AGENT_ACTIONS.seconds
    api = as_asha.post(f"{API_CONV}/reply", json={"text": "hello"}, headers={"X-CSRFToken": token})
    assert api.status_code == 429 and api.json["error"] == "throttled"
    assert untouched(services)


def test_oversized_fields_are_refused_not_truncated_into_the_order(as_asha, services, escalated):
    resp = post_json(as_asha, f"{API_CONV}/orders/OL-100221/address",
                     {"line1": "9" * 5000, "city": "Pune", "pincode": "411001"})
    assert resp.status_code == 422 and "line1" in resp.json["fields"]
    typed = post_json(as_asha, f"{API_CONV}/orders/OL-100221/cancel", {"reason": ["not", "text"]})
    assert typed.status_code == 422
    assert untouched(services)
