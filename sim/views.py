"""Routes of the simulator: the page, and small JSON endpoints that drive the real front doors."""
from __future__ import annotations

from typing import Any, Callable

from flask import render_template, request

from orderline.errors import OrderNotFound
from orderline.phones import InvalidPhone, normalise_phone
from sim import bp, customers, shipments, thread, voice, whatsapp
from sim.app_client import AppClient, AppUnreachable
from sim.signer import SigningRefused
from sim.twiml_walker import Input, Keys, Silence, Speech
from edge.jsonapi import BadJson, error, json_body
from sim.deps import SimDeps, deps


@bp.get("")
def page():
    svc = deps()
    people = [] if svc.settings.production else customers.demo_customers(svc)
    return render_template("sim/try.html", customers=people, production=svc.settings.production,
                           poll_ms=1000)


@bp.get("/api/customer")
def customer():
    return guarded(lambda svc: customers.customer(svc, phone_arg()))


@bp.get("/api/thread")
def whatsapp_thread():
    return guarded(lambda svc: thread.thread(svc, phone_arg()))


@bp.post("/api/whatsapp")
def whatsapp_send():
    def run(svc: SimDeps) -> dict[str, Any]:
        body = json_body()
        phone, text = normalise_phone(str(body.get("phone", ""))), str(body.get("text", "")).strip()[:4000]
        if not text:
            raise BadJson()
        person = customers.customer(svc, phone)
        replies = whatsapp.send(AppClient(svc.settings), phone, text, person["name"] or "Demo customer")
        return {"replies": replies}

    return guarded(run)


@bp.post("/api/calls")
def call_start():
    return guarded(lambda svc: phone_of(svc).dial(normalise_phone(str(json_body().get("phone", "")))).to_json())


@bp.post("/api/calls/<call_sid>/input")
def call_input(call_sid: str):
    return guarded(lambda svc: phone_of(svc).answer(call_sid, caller_input(json_body())).to_json())


@bp.post("/api/calls/<call_sid>/hangup")
def call_hangup(call_sid: str):
    return guarded(lambda svc: phone_of(svc).hang_up(call_sid).to_json())


@bp.post("/api/shipments")
def shipment_event():
    def run(svc: SimDeps) -> dict[str, Any]:
        body = json_body()
        event = str(body.get("event", ""))
        if event not in shipments.EVENTS:
            raise BadJson()
        order = svc.orders.get(str(body.get("order_id", "")))
        return shipments.fire(AppClient(svc.settings), order, event, svc.clock.now())

    return guarded(run)


# -- helpers ----------------------------------------------------------------------------------
def guarded(work: Callable[[SimDeps], Any]) -> Any:
    """Run one simulator action; refuse in production; map failures to JSON errors."""
    svc = deps()
    if svc.settings.production:
        return error(403, "production", "ORDERLINE_ENV is production: the simulator never signs Twilio requests, "
                                        "fakes courier events or shows customers' threads there.")
    if request.method == "POST" and not request.is_json:
        return error(415, "json_required", "send application/json")  # also keeps other sites' forms out
    try:
        return work(svc)
    except SigningRefused as exc:
        return error(403, "signing_refused", str(exc))
    except (BadJson, InvalidPhone, ValueError) as exc:
        return error(400, "bad_request", str(exc) or "phone, text, digits, speech or event missing or invalid")
    except OrderNotFound:
        return error(404, "order_not_found", "no such order")
    except voice.CallNotFound:
        return error(404, "call_not_found", "no such call (it ended or expired); dial again")
    except AppUnreachable as exc:
        return error(502, "app_unreachable", str(exc))


def phone_arg() -> str:
    return normalise_phone(request.args.get("phone", ""))


def phone_of(svc: SimDeps) -> voice.Phone:
    return voice.Phone(AppClient(svc.settings), voice.CallStore(svc.redis))


def caller_input(body: dict[str, Any]) -> Input:
    """The caller's answer: keypad digits, typed "speech", or silence (Twilio's timeout)."""
    if body.get("digits"):
        digits = str(body["digits"])
        if not all(c in "0123456789*#" for c in digits) or len(digits) > 40:
            raise BadJson()
        return Keys(digits)
    if str(body.get("speech", "")).strip():
        return Speech(str(body["speech"]).strip()[:500], float(body.get("confidence", 0.92)))
    if body.get("silence"):
        return Silence()
    raise BadJson()
