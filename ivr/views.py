"""Twilio Voice webhooks. Each view reads the form, runs one turn, and answers TwiML.

Every answer is 200 with valid TwiML: whatever fails (Redis, the database, a bug), the
caller hears an apology and is put through to a person.
"""
from __future__ import annotations

import functools
import logging
from typing import Callable

from flask import Blueprint, Response, request

from ivr import twiml
from ivr.agent_line import Verdict
from ivr.config import VoiceConfig
from ivr.prompts import t
from ivr.runner import CallRunner, Collaborators, caller_phone
from ivr.session import Menu
from edge import deps as adapter_deps
from edge.twilio_auth import twilio_signed
from orderline.escalations import OpenEscalation

log = logging.getLogger(__name__)
bp = Blueprint("ivr", __name__, url_prefix="/twilio/voice")


def collaborators() -> Collaborators:
    """What the wiring installed with this blueprint."""
    return adapter_deps.of(bp)


def config() -> VoiceConfig:
    return collaborators().config


def runner() -> CallRunner:
    return CallRunner(collaborators())


def xml(doc: str) -> Response:
    return Response(doc, status=200, mimetype="text/xml")


def voice_answer(view: Callable[..., str]) -> Callable[..., Response]:
    """Turn any failure inside `view` into the safe apology, and keep documents under 64 kB."""

    @functools.wraps(view)
    def wrapper(*args: object, **kwargs: object) -> Response:
        try:
            doc = view(*args, **kwargs)
            if twiml.fits(doc):
                return xml(doc)
            log.error("TwiML from %s too large (%d bytes)", request.path, len(doc.encode()))
        except Exception:
            log.exception("voice step %s failed for call %s", request.path, request.form.get("CallSid"))
        return xml(safe_apology())

    return wrapper


def safe_apology() -> str:
    """Apologise in both languages and queue the caller; open an escalation if the DB allows."""
    form = request.form
    phone = caller_phone(form.get("From", ""))
    if phone:
        try:
            collaborators().escalations.open(OpenEscalation(
                phone, reason="general", channel="voice", call_sid=form.get("CallSid") or None,
                note=f"Voice call {form.get('CallSid', '')}: the IVR failed at {request.path}; caller queued."))
        except Exception:
            log.exception("could not open an escalation for a failed call")
    lines = [("en", t("en", "apology")), ("en", t("en", "handoff")), ("hi", t("hi", "apology")),
             ("hi", t("hi", "handoff"))]
    return twiml.apology(lines, config().queue)


def _f(name: str) -> str:
    return (request.form.get(name) or "").strip()


@bp.post("")
@twilio_signed
@voice_answer
def incoming() -> str:
    return runner().incoming(_f("CallSid"), _f("From"), _f("StirVerstat"))


@bp.post("/fallback")
@twilio_signed
@voice_answer
def fallback() -> str:
    log.error("Twilio fell back for call %s: error %s at %s", _f("CallSid"), _f("ErrorCode"), _f("ErrorUrl"))
    return safe_apology()


@bp.post("/status")
@twilio_signed
@voice_answer
def status() -> str:
    runner().status(_f("CallSid"), _f("From"), _f("CallStatus"), _f("CallDuration"))
    return twiml.empty()


@bp.post("/menu")
@twilio_signed
@voice_answer
def menu() -> str:
    return runner().gathered(_f("CallSid"), Menu.MAIN, _f("Digits"), _f("SpeechResult"), caller=_f("From"))


@bp.post("/silence")
@twilio_signed
@voice_answer
def silence() -> str:
    return runner().silence(_f("CallSid"))


# Keypad menus: the routes ivr.render.KEYPADS points each menu's <Gather> at.
@bp.post("/order")
@twilio_signed
@voice_answer
def order() -> str:
    return runner().gathered(_f("CallSid"), Menu.ORDER, _f("Digits"))


@bp.post("/order/confirm")
@twilio_signed
@voice_answer
def order_confirm() -> str:
    return runner().gathered(_f("CallSid"), Menu.CONFIRM, _f("Digits"))


@bp.post("/order/verify")
@twilio_signed
@voice_answer
def order_verify() -> str:
    return runner().gathered(_f("CallSid"), Menu.VERIFY, _f("Digits"))


@bp.post("/order/code")
@twilio_signed
@voice_answer
def order_code() -> str:
    return runner().gathered(_f("CallSid"), Menu.CODE, _f("Digits"))


@bp.post("/reschedule")
@twilio_signed
@voice_answer
def reschedule() -> str:
    return runner().gathered(_f("CallSid"), Menu.RESCHEDULE, _f("Digits"))


@bp.post("/reschedule/confirm")
@twilio_signed
@voice_answer
def reschedule_confirm() -> str:
    return runner().gathered(_f("CallSid"), Menu.RESCHEDULE_CONFIRM, _f("Digits"))


@bp.post("/callback")
@twilio_signed
@voice_answer
def callback() -> str:
    return runner().gathered(_f("CallSid"), Menu.AFTER_HOURS, _f("Digits"))


@bp.post("/hold")
@twilio_signed
@voice_answer
def hold() -> str:
    return runner().hold(_f("CallSid"), _f("QueuePosition"))


@bp.post("/dequeued")
@twilio_signed
@voice_answer
def dequeued() -> str:
    return runner().dequeued(_f("CallSid"), _f("QueueResult"))


# -- the agent line: agents call in, prove a PIN, and take the longest-waiting caller --------
# Who may try and how many wrong PINs are allowed: ivr/agent_line.py (counted in Redis).
AGENT = "/twilio/voice/agent"
REFUSALS = {Verdict.DISABLED: ["agent_disabled"], Verdict.NOT_ALLOWED: ["agent_not_allowed"],
            Verdict.LOCKED: ["agent_locked"], Verdict.LAST_WRONG: ["agent_wrong_pin", "agent_goodbye"]}


def agent_refusal(verdict: Verdict) -> str:
    return twiml.goodbye("en", [t("en", key) for key in REFUSALS[verdict]])


@bp.post("/agent")
@twilio_signed
@voice_answer
def agent() -> str:
    verdict = collaborators().agent_gate.opening(_f("CallSid"), _f("From"))
    if verdict is not Verdict.PROMPT:
        return agent_refusal(verdict)
    return twiml.agent_prompt([], t("en", "agent_pin"), f"{AGENT}/pin")


@bp.post("/agent/pin")
@twilio_signed
@voice_answer
def agent_pin() -> str:
    verdict = collaborators().agent_gate.check(_f("CallSid"), _f("From"), _f("Digits"))
    if verdict is Verdict.ACCEPTED:
        return twiml.agent_bridge([t("en", "agent_connecting")], config().queue, f"{AGENT}/next")
    if verdict is Verdict.WRONG:
        return twiml.agent_prompt([t("en", "agent_wrong_pin")], t("en", "agent_pin"), f"{AGENT}/pin")
    return agent_refusal(verdict)


@bp.post("/agent/next")
@twilio_signed
@voice_answer
def agent_next() -> str:
    return twiml.agent_prompt([], t("en", "agent_next"), f"{AGENT}/take", num_digits=1)


@bp.post("/agent/take")
@twilio_signed
@voice_answer
def agent_take() -> str:
    if _f("Digits")[:1] == "1":
        return twiml.agent_bridge([t("en", "agent_connecting")], config().queue, f"{AGENT}/next")
    return twiml.goodbye("en", [t("en", "agent_goodbye")])
