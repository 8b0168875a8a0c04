"""TwiML for the WhatsApp webhook, built by pure functions from plain values."""
from __future__ import annotations

from typing import Iterable, Optional

from flask import Response
from twilio.twiml.messaging_response import MessagingResponse


def empty() -> str:
    """Acknowledge without replying (duplicates, messages while a person owns the chat)."""
    return str(MessagingResponse())


def messages(parts: Iterable[tuple[str, Optional[str]]]) -> str:
    """One <Message> per (text, media URL) pair, in order; empty texts are skipped."""
    response = MessagingResponse()
    for text, media_url in parts:
        if not text and not media_url:
            continue
        message = response.message(text or "")
        if media_url:
            message.media(media_url)
    return str(response)


def message(text: str) -> str:
    return messages([(text, None)])


def xml(body: str, status: int = 200) -> Response:
    """A TwiML body with the content type Twilio expects."""
    return Response(body, status=status, mimetype="application/xml")
