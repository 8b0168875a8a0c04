"""REST API v1: JSON over the order-lookup service, bearer-token protected."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException

from orderline import ownership
from orderline.errors import DomainError
from orderline.phones import InvalidPhone
from orderline.present import order_dict
from edge.jsonapi import BadJson, domain_error, error, json_body, json_bytes, plain
from edge import deps as adapter_deps
from web import commands
from web.bearer import bearer_ok
from web.deps import ApiDeps

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def deps() -> ApiDeps:
    return adapter_deps.of(bp)



@bp.before_request
def require_token():
    if not bearer_ok(deps().api_token):
        return error(401, "unauthorized", "missing or wrong bearer token")
    return None


def actor() -> str:
    return (request.headers.get("X-Actor") or "api")[:100]


def present(order):
    return order_dict(order, deps().clock)


@bp.errorhandler(DomainError)
def on_domain_error(exc: DomainError):
    return domain_error(exc)


@bp.errorhandler(BadJson)
def on_bad_json(_exc: BadJson):
    return error(400, "bad_json", "the body must be a JSON object")


@bp.errorhandler(HTTPException)
def on_http_error(exc: HTTPException):
    return error(exc.code or 500, exc.name.lower().replace(" ", "_"), exc.description or exc.name)


@bp.get("/orders/resolve")
def resolve_order():
    """The order a customer's reference names: our id, the store's number (#2041) or the AWB."""
    ref = request.args.get("ref", "")
    if not ref.strip() or len(ref) > 60:
        return error(400, "ref_required", "pass ?ref=<order id, store order number or AWB> (at most 60 characters)")
    return json_bytes(deps().reads.json_by_ref(deps().orders.number_for(ref)))


@bp.get("/orders/<ref>")
def get_order(ref: str):
    return json_bytes(deps().reads.json_by_ref(ref))


@bp.get("/orders")
def list_orders():
    phone = request.args.get("phone", "")
    if not phone:
        return error(400, "phone_required", "pass ?phone=<E.164 number>")
    try:
        return json_bytes(deps().reads.json_for_phone(phone))
    except InvalidPhone:
        return error(400, "bad_phone", "not a valid phone number")


@bp.post("/orders/<ref>/verify")
def verify_ownership(ref: str):
    """Does the one answer prove ownership? The same shape for any reference, real or not."""
    proof, sender = ownership.proof_from(json_body())
    verdict = deps().ownership.verify(ref, proof, sender)
    return jsonify(matched=verdict.matched, refused=verdict.refused)


@bp.post("/orders/<ref>/codes")
def send_code(ref: str):
    """Send a one-time code to the order's own WhatsApp number; the code never comes back here."""
    body = json_body()
    channel = body.get("channel") if body.get("channel") in ("chat", "phone") else "chat"
    result = deps().codes.send(ref, channel)
    return jsonify(sent=result.ok or result.status in ("queued", "sending", "retrying"), status=result.status), 202


@bp.post("/orders/<ref>/codes/check")
def check_code(ref: str):
    """Is this the order's live code? A match uses it up; 3 wrong tries kill it."""
    check = deps().codes.check(ref, ownership.code_from(json_body()))
    return jsonify(matched=check.matched, tries_left=check.tries_left)


@bp.post("/orders/<ref>/address")
def change_address(ref: str):
    return jsonify(present(deps().orders.change_address(ref, json_body(), actor())))


@bp.post("/orders/<ref>/reschedule")
def reschedule(ref: str):
    body = json_body()
    return jsonify(present(deps().orders.reschedule(ref, body.get("date"), body.get("slot"), actor())))


@bp.post("/orders/<ref>/cancel")
def cancel(ref: str):
    body = commands.customer_words(json_body())
    return jsonify(present(deps().orders.cancel(ref, str(body.get("reason") or ""), actor())))


@bp.post("/orders/<ref>/return")
def request_return(ref: str):
    body = commands.customer_words(json_body())
    return jsonify(present(deps().orders.request_return(ref, body.get("kind"), body.get("reason"), actor()))), 201


@bp.post("/orders/<ref>/ndr")
def ndr(ref: str):
    return jsonify(present(deps().orders.record_ndr(ref, commands.customer_words(json_body()), actor()))), 201


@bp.post("/escalations")
def open_escalation():
    escalation, created = deps().escalations.open(commands.open_escalation(json_body()))
    return jsonify(escalation=plain(escalation), created=created), 201 if created else 200


@bp.get("/escalations")
def list_escalations():
    return jsonify(escalations=plain(deps().escalations.list(request.args.get("status", "open"))))
