"""Agents who can act: the order panel's actions, the reply template outside the window, canned
replies, and auto-assignment with its manual override, through the real app (both databases)."""
from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from orderline.escalations import OpenEscalation
from orderline.models import AuditLog, Message, NdrAction, Order
from tests.support.agent_console import PHONE, post_form, post_json, sign_in

CONV = f"/agent/conversations/{PHONE}"
API_CONV = f"/agent/api/conversations/{PHONE}"
NDR_PHONE = "+919000000002"  # OL-100231: delivery failed (COD)
REPLY_SID = "HX" + "a" * 32
SHIPPED_SID = "HX" + "b" * 32


@pytest.fixture
def settings(settings, tmp_path):
    """The console's settings with an approved agent-reply template and the seller's canned replies file."""
    canned = tmp_path / "canned.txt"
    canned.write_text("Comments before the first title are ignored.\n\n# Greeting\nHi! Looking into it now.\n\n"
                      "# Reattempt booked\nA new delivery attempt is booked.\nKeep your phone on.\n", encoding="utf-8")
    return dataclasses.replace(settings, templates=(("agent_reply", REPLY_SID), ("shipped", SHIPPED_SID)), canned_replies_file=str(canned))


def order_audit(services, order_id: str) -> list[tuple[str, str]]:
    """The order's audit trail since the demo data's import."""
    with services.sessions() as session:
        rows = session.scalars(select(AuditLog).where(AuditLog.entity == "order", AuditLog.entity_id == order_id,
                                                      AuditLog.actor != "import").order_by(AuditLog.id)).all()
    return [(a.actor, a.action) for a in rows]


def notes(services) -> list[str]:
    with services.sessions() as session:
        return [m.text for m in session.scalars(select(Message).where(Message.direction == "note")
                                                .order_by(Message.id))]


def test_cancel_goes_through_the_order_service_audited_with_the_agents_name(as_asha, services, open_escalation):
    esc = open_escalation()
    page = post_form(as_asha, f"{CONV}/orders/OL-100221/cancel", {"reason": "customer ordered twice"}, page=CONV)
    assert page.status_code == 200 and b"Cancelled (customer ordered twice)." in page.data
    assert services.orders.get("OL-100221").status == "cancelled"
    assert order_audit(services, "OL-100221") == [("agent:asha", "cancelled")]
    with services.sessions() as session:
        audit = session.scalars(select(AuditLog).where(AuditLog.entity_id == "OL-100221",
                                                       AuditLog.action == "cancelled")).one()
    assert audit.changes == {"from": "placed", "reason": "customer ordered twice"}
    # Acting claims the escalation, like a reply, and leaves a note for the next agent.
    got = services.escalations.get(esc.id)
    assert (got.status, got.agent) == ("claimed", "asha")
    assert notes(services) == ["OL-100221: Cancelled (customer ordered twice)."]


def test_a_rule_refusal_changes_nothing_and_says_why(as_asha, services, open_escalation):
    open_escalation()
    page = post_form(as_asha, f"{CONV}/orders/OL-100201/cancel", {"reason": "too slow"}, page=CONV)
    assert b"Not allowed: the order has already shipped" in page.data
    assert services.orders.get("OL-100201").status == "in_transit"
    assert order_audit(services, "OL-100201") == []
    api = post_json(as_asha, f"{API_CONV}/orders/OL-100221/cancel", {"reason": ""})
    assert api.status_code == 422 and api.json["fields"] == {"reason": "say why, for the record"}
    assert services.orders.get("OL-100221").status == "placed"


def test_reschedule_moves_a_delivery_on_its_way(as_asha, services, open_escalation):
    open_escalation()
    day = (services.clock.today() + timedelta(days=2)).isoformat()
    resp = post_json(as_asha, f"{API_CONV}/orders/OL-100201/reschedule", {"date": day, "slot": "evening"})
    assert resp.status_code == 200 and resp.json["result"] == "rescheduled", resp.json
    ship = services.orders.get("OL-100201").shipment
    assert (ship.rescheduled_for.isoformat(), ship.rescheduled_slot) == (day, "evening")
    assert order_audit(services, "OL-100201") == [("agent:asha", "rescheduled")]
    too_far = (services.clock.today() + timedelta(days=30)).isoformat()
    assert post_json(as_asha, f"{API_CONV}/orders/OL-100201/reschedule", {"date": too_far}).status_code == 422


def test_a_failed_delivery_gets_a_reattempt_request_for_the_courier(as_asha, services, open_escalation):
    open_escalation(NDR_PHONE, reason="delivery")
    day = (services.clock.today() + timedelta(days=1)).isoformat()
    page = post_form(as_asha, f"/agent/conversations/{NDR_PHONE}/orders/OL-100231/reschedule", {"date": day},
                     page=f"/agent/conversations/{NDR_PHONE}")
    assert f"Reattempt booked for {day}.".encode() in page.data
    with services.sessions() as session:
        ndr = session.scalars(select(NdrAction)).one()
        assert (ndr.action, ndr.requested_date.isoformat(), ndr.channel) == ("reattempt", day, "console")
    assert order_audit(services, "OL-100231") == [("agent:asha", "ndr_reattempt")]


def test_change_the_address(as_asha, services, open_escalation):
    open_escalation()
    new = {"line1": "14 Residency Road", "line2": "", "landmark": "near the metro", "city": "Bengaluru",
           "state": "Karnataka", "pincode": "560025"}
    bad = post_json(as_asha, f"{API_CONV}/orders/OL-100221/address", {**new, "pincode": "060025"})
    assert bad.status_code == 422 and "pincode" in bad.json["fields"]
    assert order_audit(services, "OL-100221") == []
    page = post_form(as_asha, f"{CONV}/orders/OL-100221/address", new, page=CONV)
    assert b"Address changed to 14 Residency Road, Bengaluru 560025." in page.data
    a = services.orders.get("OL-100221").address
    assert (a.line1, a.landmark, a.pincode) == ("14 Residency Road", "near the metro", "560025")
    assert order_audit(services, "OL-100221") == [("agent:asha", "address_changed")]


def test_resend_tracking_sends_the_courier_and_link_as_the_agent(as_asha, services, open_escalation, fake_twilio):
    open_escalation()
    order = services.orders.get("OL-100201")
    page = post_form(as_asha, f"{CONV}/orders/OL-100201/tracking", page=CONV)
    assert b"Tracking details sent over WhatsApp." in page.data
    sent = fake_twilio.wait_for(PHONE, 1)
    assert len(sent) == 1 and order.shipment.awb in sent[0]["body"] and order.shipment.tracking_url in sent[0]["body"]
    with services.sessions() as session:
        msg = session.scalars(select(Message).where(Message.direction == "out")).one()
        assert (msg.author, msg.status, msg.twilio_sid) == ("agent:asha", "sent", sent[0]["sid"])
    assert order_audit(services, "OL-100201") == [("agent:asha", "tracking_resent")]
    # An order with nothing to track yet says so and sends nothing.
    api = post_json(as_asha, f"{API_CONV}/orders/OL-100221/tracking")
    assert api.status_code != 200 and api.json["result"] == "tracking_not_trackable"
    assert len(fake_twilio.sent_to(PHONE)) == 1


def test_resend_tracking_outside_the_window_uses_the_shipped_template(as_asha, services, open_escalation,
                                                                     fake_twilio):
    open_escalation(inbound=None)
    awb = services.orders.get("OL-100201").shipment.awb
    resp = post_json(as_asha, f"{API_CONV}/orders/OL-100201/tracking")
    assert resp.status_code == 200 and resp.json["result"] == "tracking_sent", resp.json
    sent = fake_twilio.wait_for(PHONE, 1)
    assert [(m["body"], m["content_sid"]) for m in sent] == [(None, SHIPPED_SID)]
    variables = json.loads(sent[0]["content_variables"])
    assert (variables["2"], variables["5"]) == ("OL-100201", awb)


def test_start_a_return(as_asha, services, open_escalation):
    open_escalation()
    resp = post_json(as_asha, f"{API_CONV}/orders/OL-100211/return", {"kind": "exchange", "reason": "wrong size"})
    assert resp.status_code == 200 and resp.json["result"] == "return_requested", resp.json
    with services.sessions() as session:
        order = session.scalars(select(Order).where(Order.order_id == "OL-100211")).one()
        assert [(r.kind, r.reason, r.status) for r in order.return_requests] == [("exchange", "wrong size", "requested")]
    assert order_audit(services, "OL-100211") == [("agent:asha", "return_requested")]
    again = post_json(as_asha, f"{API_CONV}/orders/OL-100211/return", {"kind": "return", "reason": "changed mind"})
    assert again.status_code == 409 and "already open" in again.json["message"]


def test_the_order_panel_offers_what_the_rules_allow(as_asha, services, open_escalation):
    open_escalation()
    placed = as_asha.get(f"{CONV}?order=OL-100221").get_data(as_text=True)
    assert 'id="act-cancel"' in placed and 'id="act-address"' in placed and 'id="act-reschedule"' not in placed
    moving = as_asha.get(f"{CONV}?order=OL-100201").get_data(as_text=True)
    assert 'id="act-reschedule"' in moving and 'id="act-tracking"' in moving and 'id="act-cancel"' not in moving


def test_another_agents_claim_blocks_order_actions(as_asha, as_ravi, services, open_escalation):
    esc = open_escalation()
    post_form(as_asha, f"/agent/escalations/{esc['id']}/claim")
    resp = post_json(as_ravi, f"{API_CONV}/orders/OL-100221/cancel", {"reason": "ravi tries"})
    assert resp.status_code == 409 and resp.json["result"] == "conflict" and resp.json["holder"] == "asha"
    assert services.orders.get("OL-100221").status == "placed" and order_audit(services, "OL-100221") == []


# -- the 24-hour window --------------------------------------------------------------------------

def test_a_reply_outside_the_window_goes_in_the_approved_template(as_asha, services, open_escalation, fake_twilio):
    esc = open_escalation(inbound=None)  # no WhatsApp message from the customer in 24 hours
    page = post_form(as_asha, f"{CONV}/reply", {"text": "Your refund was issued today.\nIt takes 5 days."}, page=CONV)
    assert b"Sent over WhatsApp in the approved template" in page.data
    sent = fake_twilio.wait_for(PHONE, 1)
    assert len(sent) == 1 and sent[0]["body"] is None and sent[0]["content_sid"] == REPLY_SID
    assert json.loads(sent[0]["content_variables"]) == {
        "1": "there", "2": esc.order_id, "3": "Your refund was issued today. It takes 5 days."}
    with services.sessions() as session:
        msg = session.scalars(select(Message).where(Message.author == "agent:asha")).one()
        assert (msg.status, msg.template_sid) == ("sent", REPLY_SID)
    assert services.escalations.get(esc.id).first_reply_at is not None
    too_long = post_json(as_asha, f"{API_CONV}/reply", {"text": "x" * 1001})
    assert too_long.status_code == 422 and len(fake_twilio.sent_to(PHONE)) == 1


def test_inside_the_window_the_reply_is_free_text_even_with_a_template(as_asha, open_escalation, fake_twilio):
    open_escalation()  # the customer wrote just now
    resp = post_json(as_asha, f"{API_CONV}/reply", {"text": "Line one.\nLine two."})
    assert resp.status_code == 200 and resp.json["template"] is False
    sent = fake_twilio.wait_for(PHONE, 1)
    assert [(m["body"], m["content_sid"]) for m in sent] == [("Line one.\nLine two.", None)]


# -- canned replies ---------------------------------------------------------------------------------

def test_canned_replies_come_from_the_sellers_file_and_edits_show_without_a_restart(as_asha, settings, open_escalation):
    open_escalation()
    page = as_asha.get(CONV).get_data(as_text=True)
    assert 'id="canned"' in page and ">Greeting</option>" in page
    assert 'value="A new delivery attempt is booked.\nKeep your phone on."' in page
    api = as_asha.get("/agent/api/canned-replies")
    assert [r["title"] for r in api.json["replies"]] == ["Greeting", "Reattempt booked"]
    with open(settings.canned_replies_file, "a", encoding="utf-8") as f:
        f.write("\n# Sorry\nSorry for the wait.\n")
    assert [r["title"] for r in as_asha.get("/agent/api/canned-replies").json["replies"]][-1] == "Sorry"


# -- auto-assignment ----------------------------------------------------------------------------------

def escalate(services, phone: str) -> dict:
    services.conversations.record_inbound(phone, "whatsapp", "I need a person")
    esc, created = services.escalations.open(OpenEscalation(phone, reason="delivery"))
    assert created
    return esc


PHONES = [f"+9190000000{n:02d}" for n in range(10, 20)]


def test_new_escalations_go_to_the_agent_on_shift_with_the_fewest_open(app, services, asha, ravi):
    assert escalate(services, PHONES[0]).assignee is None  # nobody signed in: nobody on shift
    asha_client, ravi_client = app.test_client(), app.test_client()
    sign_in(asha_client, "asha")
    sign_in(ravi_client, "ravi")
    # PHONES[0]'s escalation has no assignee, so both start at zero; a tie goes to the lower id (asha).
    got = [escalate(services, p).assignee for p in PHONES[1:5]]
    assert got == ["asha", "ravi", "asha", "ravi"]
    # A claim counts against the claimer: asha takes the unassigned one, so ravi is next twice.
    post_form(asha_client, f"/agent/escalations/{escalate_id(services, PHONES[0])}/claim")
    assert [escalate(services, p).assignee for p in PHONES[5:7]] == ["ravi", "asha"]
    # Signing out ends the shift: everything new goes to whoever is still signed in.
    post_form(ravi_client, "/agent/logout")
    assert [escalate(services, p).assignee for p in PHONES[7:9]] == ["asha", "asha"]
    active = services.escalations.list("active")
    per_agent = {name: sum(1 for e in active if (e.agent if e.status == "claimed" else e.assignee) == name)
                 for name in ("asha", "ravi")}
    assert per_agent == {"asha": 6, "ravi": 3}


def escalate_id(services, phone: str) -> int:
    return next(e.id for e in services.escalations.list("active") if e.phone == phone)


def test_reassign_overrides_the_auto_assignment_and_is_audited(as_asha, as_ravi, services):
    esc = escalate(services, PHONES[0])
    assert esc.assignee == "asha"
    conv = f"/agent/conversations/{PHONES[0]}"
    page = as_asha.get(conv).get_data(as_text=True)
    assert 'id="assign-form"' in page and ">ravi (0 open)</option>" in page
    page = post_form(as_asha, f"/agent/escalations/{esc['id']}/assign", {"agent": "ravi"}, page=conv)
    assert b"assigned to ravi from asha" in page.data
    assert services.escalations.get(esc.id).assignee == "ravi"
    with services.sessions() as session:
        audit = session.scalars(select(AuditLog).where(AuditLog.entity == "escalation")).one()
    assert (audit.actor, audit.action, audit.changes) == ("agent:asha", "reassigned", {"from": "asha", "to": "ravi"})
    assert post_json(as_asha, f"/agent/api/escalations/{esc['id']}/assign", {"agent": "nobody"}).status_code == 422
    # A claimed escalation moves by take-over, not by reassigning.
    post_form(as_ravi, f"/agent/escalations/{esc['id']}/claim")
    refused = post_json(as_asha, f"/agent/api/escalations/{esc['id']}/assign", {"agent": "asha"})
    assert refused.status_code == 409 and services.escalations.get(esc.id).agent == "ravi"
