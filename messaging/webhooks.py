"""Twilio's delivery-status callbacks for the messages the sender wrote."""
from __future__ import annotations

import logging
from typing import Optional

from flask import Blueprint, Response, request

from edge import deps as adapter_deps
from edge.text import clean_text
from edge.twilio_auth import twilio_signed
from messaging.sender import WhatsAppSender

log = logging.getLogger(__name__)
bp = Blueprint("message_status", __name__)


def field(name: str, limit: int, fallback: Optional[str] = None) -> str:
    return clean_text(request.form.get(name) or (request.form.get(fallback) if fallback else None), limit)


@bp.post("/twilio/message-status")
@twilio_signed
def message_status() -> Response:
    sid = field("MessageSid", 64)
    status = field("MessageStatus", 20, fallback="SmsStatus").lower()
    error_code = field("ErrorCode", 20) or None
    sender: WhatsAppSender = adapter_deps.of(bp)
    try:
        if not (sid and status):
            log.warning("status callback without MessageSid or MessageStatus")
        elif not sender.record_status(sid, status, error_code):
            log.info("status %s for unknown message %s", status, sid)
    except Exception:
        log.exception("status callback for %s failed", sid)
    return Response("", status=200, mimetype="text/plain")
