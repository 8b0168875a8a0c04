"""Reading a one-time code the way its rightful owner would: from the WhatsApp message written to the
order's own phone (the outbox; the message rows are what Twilio is asked to send)."""
from __future__ import annotations

import re
from typing import Any, Optional

from sqlalchemy import select

from orderline.models import Conversation, Message


def latest_code(services: Any, phone: str) -> Optional[str]:
    """The 6-digit code in the newest message written to `phone`; None when there is none."""
    with services.sessions() as session:
        text = session.scalar(select(Message.text).join(Conversation, Conversation.id == Message.conversation_id)
                              .where(Conversation.phone == phone, Message.direction == "out", Message.channel == "whatsapp")
                              .order_by(Message.id.desc()).limit(1))
    found = re.search(r"(?<!\d)(\d{6})(?!\d)", text or "")
    return found.group(1) if found else None


def other_code(code: str) -> str:
    """A 6-digit code that is not `code`."""
    return "000000" if code != "000000" else "111111"
