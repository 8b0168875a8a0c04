"""What an agent can do to a customer's order from the console, and to whose queue an escalation goes.

Every change goes through the same domain operation the assistant's order API calls
(`OrderService` in `orderline/orders.py`), with the agent as the actor, so its rules, its
audit row (`audit_log`, actor `agent:<name>`) and whatever else that operation does (the
courier outbox) come with it. The console adds only who may ask:

* there is an active escalation for this phone (the order is part of a conversation an agent
  was asked into);
* the order belongs to that customer (an order of anyone else reads as "not found", whether or
  not it exists);
* the agent holds the escalation: acting claims it, like a reply, and an escalation another
  agent claimed must be taken over first.

Each action also leaves a note in the transcript, so the next agent sees what was done.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable, Optional

from sqlalchemy.orm import Session

from console.actions import Outcome, active_escalation, claim
from console.agents import AgentUser
from console.deps import ConsoleDeps
from orderline.errors import EscalationNotFound, InvalidInput, OrderNotFound, RuleViolation
from orderline.models import AuditLog, Order, OrderStatus
from orderline.orders import ADDRESS_LIMITS, in_transaction
from orderline.rules import reschedule_window

ACTIONS = ("cancel", "reschedule", "address", "tracking", "return")


def act(svc: ConsoleDeps, agent: AgentUser, phone: str, ref: str, action: str, form: dict[str, Any]) -> Outcome:
    """Run `action` on the order `ref` of the customer at `phone` for `agent`; see the module's rule."""
    if action not in ACTIONS:
        return Outcome(False, "not_found", f"There is no order action {action!r}.")
    esc = active_escalation(svc, phone)
    if esc is None:
        return Outcome(False, "not_allowed", "There is no open escalation for this customer; "
                                             "order actions happen inside one.")
    order = _customers_order(svc, phone, ref)
    if order is None:
        return Outcome(False, "not_found", f"This customer has no order {ref}.", esc)
    held = claim(svc, agent, esc.id)
    if not held.ok:
        return held
    try:
        done = DO[action](svc, agent, order, form)
    except InvalidInput as exc:
        return Outcome(False, "invalid", "Check " + ", ".join(f"{k}: {v}" for k, v in exc.fields.items()) + ".",
                       held.escalation, {"fields": exc.fields})
    except RuleViolation as exc:
        return Outcome(False, "not_allowed", f"Not allowed: {exc.reason}.", held.escalation)
    except OrderNotFound:
        return Outcome(False, "not_found", f"This customer has no order {ref}.", held.escalation)
    if done.ok:
        svc.conversations.record_outbound(phone, "console", agent.author, f"{order.order_id}: {done.message}",
                                          status="note", direction="note")
    return Outcome(done.ok, done.result, done.message, held.escalation, {"order_id": order.order_id, **done.details})


def _customers_order(svc: ConsoleDeps, phone: str, ref: str) -> Optional[Order]:
    try:
        order = svc.orders.get(ref)
    except OrderNotFound:
        return None
    return order if order.customer.phone == phone else None


def _cancel(svc: ConsoleDeps, agent: AgentUser, order: Order, form: dict[str, Any]) -> Outcome:
    reason = str(form.get("reason") or "").strip()
    if not reason:
        raise InvalidInput({"reason": "say why, for the record"})
    svc.orders.cancel(order.order_id, reason, actor=agent.author)
    return Outcome(True, "cancelled", f"Cancelled ({reason[:200]}).")


def _reschedule(svc: ConsoleDeps, agent: AgentUser, order: Order, form: dict[str, Any]) -> Outcome:
    """A failed delivery gets a reattempt request for the courier (as the customer's NDR reply
    does); an order still on its way gets its delivery moved (as the assistant's reschedule does)."""
    day, slot = form.get("date"), form.get("slot") or None
    if order.status == OrderStatus.DELIVERY_FAILED.value:
        svc.orders.record_ndr(order.order_id, {"action": "reattempt", "date": day, "channel": "console",
                                               "customer_words": str(form.get("note") or "")}, actor=agent.author)
        return Outcome(True, "reattempt_booked", f"Reattempt booked for {day}.")
    svc.orders.reschedule(order.order_id, day, slot, actor=agent.author)
    return Outcome(True, "rescheduled", f"Delivery moved to {day}{' ' + slot if slot else ''}.")


def _address(svc: ConsoleDeps, agent: AgentUser, order: Order, form: dict[str, Any]) -> Outcome:
    fields = {key: form.get(key, "") for key in (*ADDRESS_LIMITS, "pincode")}
    changed = svc.orders.change_address(order.order_id, fields, actor=agent.author)
    a = changed.address
    return Outcome(True, "address_changed", f"Address changed to {a.line1}, {a.city} {a.pincode}.")


def _tracking(svc: ConsoleDeps, agent: AgentUser, order: Order, form: dict[str, Any]) -> Outcome:
    """The notifier's shipped message (with its template outside the window), sent now as the agent."""
    message = svc.notifier.tracking_message(order.order_id)
    if message is None:
        return Outcome(False, "tracking_not_trackable", "There is nothing to track yet: the order has no AWB.")
    sent = svc.sender.send(message.phone, message.text, author=agent.author, template=message.template)
    _audit(svc, agent, order, "tracking_resent", {"message_id": sent.message_id, "status": sent.status})
    messages = {"sent": "Tracking details sent over WhatsApp.",
                "outbox": "Tracking details written to the local outbox (Twilio is not configured).",
                "retrying": "Twilio did not take the tracking message yet; it will be retried."}
    text = messages.get(sent.status, f"Tracking details not sent: {sent.reason or sent.status}.")
    return Outcome(sent.status in messages, "tracking_" + sent.status, text)


def _audit(svc: ConsoleDeps, agent: AgentUser, order: Order, action: str, changes: dict[str, Any]) -> None:
    """An audit row for an action that is a send, not an order change (those audit themselves)."""
    def work(session: Session) -> None:
        session.add(AuditLog(actor=agent.author, entity="order", entity_id=order.order_id, action=action,
                             changes=changes))

    in_transaction(svc.sessions, work)


def _return(svc: ConsoleDeps, agent: AgentUser, order: Order, form: dict[str, Any]) -> Outcome:
    kind = form.get("kind") or "return"
    svc.orders.request_return(order.order_id, kind, form.get("reason"), actor=agent.author)
    return Outcome(True, "return_requested", f"{str(kind).capitalize()} started.")


DO: dict[str, Callable[[ConsoleDeps, AgentUser, Order, dict[str, Any]], Outcome]] = {
    "cancel": _cancel, "reschedule": _reschedule, "address": _address, "tracking": _tracking, "return": _return,
}


def reschedule_days(today: date) -> tuple[str, str]:
    """The first and last day the date picker offers (the rule itself is the order service's)."""
    first, last = reschedule_window(today)
    return first.isoformat(), last.isoformat()


def reassign(svc: ConsoleDeps, agent: AgentUser, esc_id: int, to: str) -> Outcome:
    """Manual override of the auto-assignment: any agent may move an unclaimed escalation to any agent."""
    try:
        before = svc.assignments.reassign(esc_id, (to or "").strip(), agent.author)
    except EscalationNotFound:
        return Outcome(False, "not_found", f"There is no escalation {esc_id}.")
    except InvalidInput:
        return Outcome(False, "invalid", f"There is no agent called {to!r}.", svc.escalations.get(esc_id))
    except RuleViolation as exc:
        return Outcome(False, "not_allowed", exc.reason.capitalize() + ".", svc.escalations.get(esc_id))
    esc = svc.escalations.get(esc_id)
    svc.conversations.publish({"type": "escalation_assigned", "id": esc_id, "assignee": esc.assignee})
    moved = f" from {before}" if before else ""
    return Outcome(True, "reassigned", f"Escalation #{esc_id} assigned to {esc.assignee}{moved}.", esc)

