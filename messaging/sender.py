"""Send WhatsApp messages with consent, the 24-hour window, templates, an outbox and retries.

Every message is a row first (status `queued`), then a send. A row is claimed before its
send (`queued`/`retrying` → `sending`), so two workers never send the same row.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable, Optional

import requests
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from orderline.clock import Clock
from orderline.conversations import ConversationStore
from orderline.models import Message
from orderline.phones import normalise_phone
from orderline.settings import Settings

log = logging.getLogger(__name__)
BACKOFF = (5, 30, 120, 600)  # seconds between attempts for transient failures
STATUS_RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4}
PERMANENT_CODES = {"63016", "63024", "63032", "21211", "21610", "21614", "63003"}


@dataclass(frozen=True)
class Template:
    """An approved WhatsApp template: Twilio Content SID plus its variables."""

    content_sid: str
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    message_id: Optional[int]
    status: str  # sent, outbox, refused, retrying, failed
    sid: Optional[str] = None
    reason: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.status in ("sent", "outbox")


class WhatsAppSender:
    def __init__(self, settings: Settings, factory: sessionmaker[Session], store: ConversationStore, clock: Clock,
                 client: Optional[Client], schedule_retry: Optional[Callable[[int, int], None]] = None) -> None:
        self.settings = settings
        self.factory = factory
        self.store = store
        self.clock = clock
        self.client = client
        self.schedule_retry = schedule_retry

    def send(self, phone: str, text: str, author: str = "bot", template: Optional[Template] = None,
             ignore_opt_out: bool = False) -> SendResult:
        """Queue and send one message. Inside the window text goes as is; outside, the template."""
        prepared = self.prepare(phone, text, author, template, ignore_opt_out)
        return prepared if prepared.status == "refused" else self.deliver(prepared.message_id)  # type: ignore[arg-type]

    def prepare(self, phone: str, text: str, author: str = "bot", template: Optional[Template] = None,
                ignore_opt_out: bool = False) -> SendResult:
        """Check consent and the window, and write the message row (`queued`) without sending it."""
        phone = normalise_phone(phone)
        conv = self.store.conversation(phone)
        if conv is not None and conv.opted_out and not ignore_opt_out:
            return self._refuse(phone, text, author, "the customer opted out of WhatsApp messages")
        in_window = self.store.window_open(phone)
        if not in_window and template is None:
            return self._refuse(phone, text, author, "outside WhatsApp's 24-hour window and no template is configured")
        use_template = None if in_window else template
        message_id = self.store.record_outbound(phone, "whatsapp", author, text, status="queued",
                                                template_sid=use_template.content_sid if use_template else None)
        if use_template:
            self._set(message_id, template_variables=use_template.variables)
        return SendResult(message_id, "queued")

    def recover(self, message_id: int, stuck_after: timedelta = timedelta(seconds=60)) -> SendResult:
        """Settle a row left `sending` by a worker that died mid-call, without sending twice.

        If Twilio has the message (same recipient and body, created after the row), adopt its
        SID; otherwise put the row back to `queued` and deliver it.
        """
        with self.factory() as session:
            msg = session.get(Message, message_id)
            if msg is None:
                return SendResult(message_id, "missing")
            if msg.status != "sending":
                return SendResult(message_id, msg.status, msg.twilio_sid)
            if self.clock.now() - msg.updated_at < stuck_after:
                return SendResult(message_id, "sending")
            phone, text, created = msg.conversation.phone, msg.text, msg.created_at
            template_sid = msg.template_sid
        if self.client is not None:
            try:
                for remote in self.client.messages.list(to=f"whatsapp:{phone}",
                                                        date_sent_after=created - timedelta(minutes=1), limit=50):
                    if (remote.body or None) == (None if template_sid else text):
                        self._finish(message_id, "sent", twilio_sid=remote.sid)
                        return SendResult(message_id, "sent", remote.sid)
            except (TwilioRestException, requests.RequestException, OSError) as exc:
                log.warning("cannot check Twilio for message %s yet: %s", message_id, exc)
                return SendResult(message_id, "sending")
        self._set(message_id, status="queued")
        return self.deliver(message_id)

    def deliver(self, message_id: int) -> SendResult:
        """Send a queued row once. Safe to call again: only a queued or retrying row is sent."""
        with self.factory() as session:
            claimed = session.execute(
                update(Message).where(Message.id == message_id, Message.status.in_(("queued", "retrying")))
                .values(status="sending", attempts=Message.attempts + 1, updated_at=self.clock.now())
            ).rowcount
            session.commit()
            msg = session.get(Message, message_id)
            if msg is None or not claimed:
                return SendResult(message_id, msg.status if msg else "missing", msg.twilio_sid if msg else None)
            phone, text, attempts = msg.conversation.phone, msg.text, msg.attempts
            template_sid, variables = msg.template_sid, msg.template_variables
        if self.client is None:
            sid = f"OUTBOX{message_id:010d}"
            self._finish(message_id, "outbox", twilio_sid=sid)
            return SendResult(message_id, "outbox", sid)
        kwargs: dict[str, Any] = {"from_": self.settings.twilio_whatsapp_from, "to": f"whatsapp:{phone}",
                                  "status_callback": self.settings.public_base_url.rstrip("/") + "/twilio/message-status"}
        if template_sid:
            kwargs.update(content_sid=template_sid, content_variables=json.dumps(variables or {}))
        else:
            kwargs["body"] = text
        try:
            created = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            return self._failed(message_id, attempts, str(exc.code or exc.status), exc.msg, transient=exc.status >= 500 or exc.status == 429)
        except (requests.RequestException, OSError) as exc:
            return self._failed(message_id, attempts, "network", str(exc)[:300], transient=True)
        self._finish(message_id, "sent", twilio_sid=created.sid)
        return SendResult(message_id, "sent", created.sid)

    def record_status(self, sid: str, status: str, error_code: Optional[str] = None) -> bool:
        """Apply a Twilio status callback. Returns False for an unknown SID."""
        with self.factory() as session:
            msg = session.scalars(select(Message).where(Message.twilio_sid == sid)).one_or_none()
            if msg is None:
                return False
            if status in ("failed", "undelivered"):
                msg.status = status
            elif STATUS_RANK.get(status, -1) > STATUS_RANK.get(msg.status, -1):
                msg.status = status
            if error_code:
                msg.error_code = error_code
            msg.updated_at = self.clock.now()
            session.commit()
        return True

    # -- internals -------------------------------------------------------------
    def _refuse(self, phone: str, text: str, author: str, reason: str) -> SendResult:
        message_id = self.store.record_outbound(phone, "whatsapp", author, text, status="refused")
        self._set(message_id, error_message=reason)
        log.info("refused to send to %s: %s", phone, reason)
        return SendResult(message_id, "refused", reason=reason)

    def _failed(self, message_id: int, attempts: int, code: str, text: str, transient: bool) -> SendResult:
        permanent = code in PERMANENT_CODES or not transient
        if permanent or attempts > len(BACKOFF):
            self._finish(message_id, "failed", error_code=code, error_message=text)
            return SendResult(message_id, "failed", reason=f"{code}: {text}")
        delay = BACKOFF[attempts - 1]
        self._finish(message_id, "retrying", error_code=code, error_message=text,
                     next_attempt_at=self.clock.now() + timedelta(seconds=delay))
        if self.schedule_retry:
            self.schedule_retry(message_id, delay)
        return SendResult(message_id, "retrying", reason=f"{code}: {text}")

    def _finish(self, message_id: int, status: str, **values: Any) -> None:
        self._set(message_id, status=status, **values)

    def _set(self, message_id: int, **values: Any) -> None:
        with self.factory() as session:
            session.execute(update(Message).where(Message.id == message_id).values(updated_at=self.clock.now(), **values))
            session.commit()
