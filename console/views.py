"""Server-rendered console pages; every action form posts here and comes back with a flash."""
from __future__ import annotations

from typing import Any, Optional

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from console import actions, bp, order_actions
from console.auth import throttled
from console.queue import conversation_context, queue_items, reason_counts
from orderline.escalations import REASONS
from orderline.errors import EscalationNotFound
from orderline.phones import InvalidPhone, normalise_phone
from console.deps import deps


@bp.get("/")
def queue():
    reason = request.args.get("reason") or None
    if reason not in (None, *REASONS):
        reason = None
    everyone = queue_items(deps())
    items = [e for e in everyone if reason is None or e.reason == reason]
    return render_template("console/queue.html", items=items, reason=reason, reasons=REASONS,
                           counts=reason_counts(everyone), flagged=deps().orders.flagged(), tz=deps().clock.tz)


@bp.get("/escalations/<int:esc_id>")
def escalation(esc_id: int):
    try:
        esc = deps().escalations.get(esc_id)
    except EscalationNotFound:
        abort(404)
    return redirect(url_for("console.conversation", phone=esc.phone))


@bp.get("/conversations/<phone>")
def conversation(phone: str):
    phone = phone_or_404(phone)
    ctx = conversation_context(deps(), phone, request.args.get("order"))
    order = ctx.get("order")
    ctx["notifications"] = deps().notifier.for_order(order["order_id"]) if order else []
    ctx["courier_requests"] = deps().courier_requests.for_order(order["order_id"]) if order else []
    ctx["canned_replies"] = deps().canned_replies()
    ctx["reply_template"] = bool(deps().reply_template)
    ctx["agents_on_shift"] = deps().assignments.on_shift()
    ctx["reschedule_days"] = order_actions.reschedule_days(deps().clock.today())
    return render_template("console/conversation.html", **ctx)


@bp.post("/conversations/<phone>/orders/<ref>/<action>")
@throttled
def order_action(phone: str, ref: str, action: str):
    """Cancel, reschedule, change the address, resend tracking or start a return (console.order_actions)."""
    phone = phone_or_404(phone)
    outcome = order_actions.act(deps(), current_user, phone, ref, action, request.form.to_dict())
    if outcome.result == "not_found":
        abort(404)
    flash(outcome.message, "ok" if outcome.ok else ("warn" if outcome.result == "conflict" else "error"))
    return redirect(url_for("console.conversation", phone=phone, order=outcome.details.get("order_id")))


@bp.post("/escalations/<int:esc_id>/assign")
@throttled
def assign(esc_id: int):
    outcome = order_actions.reassign(deps(), current_user, esc_id, request.form.get("agent", ""))
    if outcome.result == "not_found":
        abort(404)
    return back(outcome, outcome.escalation.phone if outcome.escalation else None)


@bp.post("/notifications/<int:notification_id>/resend")
def resend_notification(notification_id: int):
    """Send a proactive message again, now (recorded in the audit log)."""
    phone = phone_or_404(request.form.get("phone", ""))
    outcome = deps().notifier.resend(notification_id, f"agent:{current_user.name}")
    if outcome.status == "sent":
        flash("Notification sent again.", "ok")
    elif outcome.status == "not_resendable":
        flash("That notification is still on its way; it can be resent once it has settled.", "warn")
    else:
        flash(f"Could not resend the notification: {outcome.status}.", "error")
    return redirect(url_for("console.conversation", phone=phone))


@bp.post("/escalations/<int:esc_id>/claim")
def claim(esc_id: int):
    outcome = actions.claim(deps(), current_user, esc_id, takeover=request.form.get("takeover") == "1")
    return back(outcome, outcome.escalation.phone if outcome.escalation else None)


@bp.post("/conversations/<phone>/reply")
@throttled
def reply(phone: str):
    phone = phone_or_404(phone)
    return back(actions.reply(deps(), current_user, phone, request.form.get("text", "")), phone)


@bp.post("/conversations/<phone>/note")
def note(phone: str):
    phone = phone_or_404(phone)
    return back(actions.note(deps(), current_user, phone, request.form.get("text", "")), phone)


@bp.post("/escalations/<int:esc_id>/resolve")
def resolve(esc_id: int):
    outcome = actions.resolve(deps(), current_user, esc_id, "resolved")
    return back(outcome, outcome.escalation.phone if outcome.escalation else None)


@bp.post("/escalations/<int:esc_id>/handback")
def hand_back(esc_id: int):
    outcome = actions.resolve(deps(), current_user, esc_id, "handed_back")
    return back(outcome, outcome.escalation.phone if outcome.escalation else None)


def back(outcome: actions.Outcome, phone: Optional[str]) -> Any:
    flash(outcome.message, "ok" if outcome.ok else ("warn" if outcome.result == "conflict" else "error"))
    if phone is None:
        return redirect(url_for("console.queue"))
    return redirect(url_for("console.conversation", phone=phone))


def phone_or_404(phone: str) -> str:
    try:
        return normalise_phone(phone)
    except InvalidPhone:
        abort(404)
