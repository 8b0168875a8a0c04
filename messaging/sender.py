"""Send WhatsApp messages with consent, the 24-hour window, templates, an outbox and retries.

Every message is a row first (status `queued`), then a send. A row is claimed before its
send (`queued`/`retrying` → `sending`), so two workers never send the same row.
"""
from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable, Optional, Sequence

import redis
import requests
import urllib3
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from orderline.clock import Clock
from orderline.conversations import ConversationStore, events_channel
from orderline.models import Conversation, Customer, Message
from orderline.phones import normalise_phone
from orderline.ports import SendResult, Template
from orderline.redact import redact
from orderline.rules import window_open
from orderline.settings import Settings

log = logging.getLogger(__name__)
BACKOFF = (5, 30, 120, 600)  # seconds between attempts for transient failures
STATUS_RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4}
PERMANENT_CODES = {"63016", "63024", "63032", "21211", "21610", "21614", "63003"}
# Calls to Twilio in flight at once from one sender: each waits on the network (~100-300 ms
# to Twilio's US API from India), so a batch of notifications overlaps them.
SEND_CONCURRENCY = 8
MESSAGES, CONVERSATIONS, CUSTOMERS = Message.__table__, Conversation.__table__, Customer.__table__


@dataclass(frozen=True)
class Outgoing:
    """One message to prepare: see `WhatsAppSender.prepare`."""

    phone: str
    text: str
    author: str = "bot"
    template: Optional[Template] = None
    ignore_opt_out: bool = False


@dataclass(frozen=True)
class _Call:
    """One claimed attempt at sending a message row."""

    message_id: int
    phone: str
    text: str
    template_sid: Optional[str]
    template_variables: Optional[dict[str, str]]
    attempts: int


@dataclass
class _Written:
    results: list["SendResult"] = field(default_factory=list)
    calls: list[_Call] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)


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
        """Write and send one message. Inside the window text goes as is; outside, the template."""
        return self.send_many([Outgoing(phone, text, author, template, ignore_opt_out)])[0]

    def send_many(self, items: Sequence["Outgoing"],
                  link: Optional[Callable[[Session, list[SendResult]], None]] = None) -> list[SendResult]:
        """Write and send many messages: one transaction writes every row, already claimed for
        its first attempt, together with whatever `link(session, results)` adds (the notifier
        points its rows at them); then the calls to Twilio; then one transaction for the answers.
        """
        if not items:
            return []
        with self.factory() as session:
            written = self._write(session, items, claimed=True)
            if link:
                link(session, written.results)
            session.commit()
        self._announce(written.phones)
        settled = self._call_all(written.calls)
        return [settled.get(r.message_id, r) for r in written.results]  # type: ignore[arg-type]

    def prepare(self, phone: str, text: str, author: str = "bot", template: Optional[Template] = None,
                ignore_opt_out: bool = False) -> SendResult:
        """Check consent and the window, and write the message row (`queued`) without sending it."""
        with self.factory() as session:
            written = self._write(session, [Outgoing(phone, text, author, template, ignore_opt_out)], claimed=False)
            session.commit()
        self._announce(written.phones)
        return written.results[0]

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
        return self.deliver_many([message_id])[0]

    def deliver_many(self, message_ids: Sequence[int]) -> list[SendResult]:
        """Send queued rows (`queued`/`retrying` → `sending`, committed before any call, so two
        workers never send the same row and a crash leaves them for `recover`); results in order."""
        if not message_ids:
            return []
        with self.factory() as session:
            claimed = set(session.execute(
                update(MESSAGES).where(MESSAGES.c.id.in_(message_ids), MESSAGES.c.status.in_(("queued", "retrying")))
                .values(status="sending", attempts=MESSAGES.c.attempts + 1, updated_at=self.clock.now())
                .returning(MESSAGES.c.id)).scalars())
            session.commit()
            rows = {r.id: r for r in session.execute(
                select(MESSAGES.c.id, MESSAGES.c.status, MESSAGES.c.twilio_sid, MESSAGES.c.text, MESSAGES.c.attempts,
                       MESSAGES.c.template_sid, MESSAGES.c.template_variables, CONVERSATIONS.c.phone)
                .join_from(MESSAGES, CONVERSATIONS, MESSAGES.c.conversation_id == CONVERSATIONS.c.id)
                .where(MESSAGES.c.id.in_(message_ids)))}
        results = {i: SendResult(i, rows[i].status if i in rows else "missing", rows[i].twilio_sid if i in rows else None)
                   for i in message_ids if i not in claimed or i not in rows}
        results.update(self._call_all([_Call(r.id, r.phone, r.text, r.template_sid, r.template_variables, r.attempts)
                                       for i in message_ids if i in claimed and (r := rows.get(i))]))
        return [results[i] for i in message_ids]

    def _call_all(self, calls: list["_Call"]) -> dict[int, SendResult]:
        """Make the calls (claimed rows) and record each answer; a failure is retried or recorded."""
        results: dict[int, SendResult] = {}
        sent: list[dict[str, Any]] = []
        for call, answer in zip(calls, self._post_all(calls)):
            if isinstance(answer, str):
                sent.append({"b_id": call.message_id, "b_attempts": call.attempts, "twilio_sid": answer,
                             "status": "outbox" if self.client is None else "sent"})
                results[call.message_id] = SendResult(call.message_id, sent[-1]["status"], answer)
            elif isinstance(answer, TwilioRestException):  # Twilio answered: nothing was created
                results[call.message_id] = self._failed(
                    call.message_id, call.attempts, str(answer.code or answer.status), answer.msg,
                    transient=answer.status >= 500 or answer.status == 429)
            else:
                results[call.message_id] = self._failed(call.message_id, call.attempts, "network", str(answer)[:300],
                                                        transient=True, maybe_sent=_may_have_reached_twilio(answer))
        if sent:
            with self.factory() as session:
                # Only this attempt's own claim: a recovery may have settled the row meanwhile.
                session.execute(update(MESSAGES).where(MESSAGES.c.id == bindparam("b_id"),
                                                       MESSAGES.c.status == "sending",
                                                       MESSAGES.c.attempts == bindparam("b_attempts"))
                                .values(updated_at=self.clock.now()), sent)
                session.commit()
        return results

    def retry(self, message_id: int) -> SendResult:
        """A scheduled retry. A row still `sending` had an attempt that may have reached Twilio
        (a timeout): ask Twilio before sending again."""
        with self.factory() as session:
            status = session.scalar(select(MESSAGES.c.status).where(MESSAGES.c.id == message_id))
        if status == "sending":
            return self.recover(message_id, stuck_after=timedelta(0))
        return self.deliver(message_id)

    def _post_all(self, calls: list["_Call"]) -> list[Any]:
        """Twilio's answer for each call: the SID, or the exception. Calls overlap (network-bound)."""
        if self.client is None:  # no Twilio account: the local outbox
            return [f"OUTBOX{call.message_id:010d}" for call in calls]
        if len(calls) <= 1:
            return [self._post(call) for call in calls]
        with ThreadPoolExecutor(max_workers=min(SEND_CONCURRENCY, len(calls)), thread_name_prefix="twilio") as pool:
            return list(pool.map(self._post, calls))

    def _post(self, row: "_Call") -> Any:
        kwargs: dict[str, Any] = {"from_": self.settings.twilio_whatsapp_from, "to": f"whatsapp:{row.phone}",
                                  "status_callback": self.settings.public_base_url.rstrip("/") + "/twilio/message-status"}
        if row.template_sid:
            kwargs.update(content_sid=row.template_sid, content_variables=json.dumps(row.template_variables or {}))
        else:
            kwargs["body"] = row.text
        try:
            return self.client.messages.create(**kwargs).sid  # type: ignore[union-attr]
        except (TwilioRestException, requests.RequestException, OSError) as exc:
            return exc

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
    def _write(self, session: Session, items: Sequence["Outgoing"], claimed: bool) -> "_Written":
        """Check consent, the window and the template of each item and insert its row: `queued`,
        or `sending` when its first attempt follows at once (`claimed`), or `refused` with the
        reason, so the transcript shows what was not sent."""
        phones = [normalise_phone(i.phone) for i in items]
        now = self.clock.now()
        convs = self._conversations(session, set(phones), now)
        rows: list[dict[str, Any]] = []
        for item, phone in zip(items, phones):
            conv = convs[phone]
            # The conversation store's clock, like `ConversationStore.window_open`.
            in_window = window_open(conv.last_inbound_at, self.store.clock.now())
            reason = None
            if conv.opted_out and not item.ignore_opt_out:
                reason = "the customer opted out of WhatsApp messages"
            elif not in_window and item.template is None:
                reason = "outside WhatsApp's 24-hour window and no template is configured"
            template = None if in_window or reason else item.template
            status = "refused" if reason else "sending" if claimed else "queued"
            rows.append({"conversation_id": conv.id, "direction": "out", "channel": "whatsapp",
                         "author": item.author[:100], "text": redact(item.text or "")[:4000], "media": [],
                         "status": status, "error_message": reason, "attempts": int(status == "sending"),
                         "template_sid": template.content_sid if template else None,
                         "template_variables": template.variables if template else None,
                         "created_at": now, "updated_at": now})
        ids = list(session.execute(insert(MESSAGES).returning(MESSAGES.c.id, sort_by_parameter_order=True),
                                   rows).scalars())
        written = _Written(phones=list(dict.fromkeys(phones)))
        for message_id, row, phone in zip(ids, rows, phones):
            written.results.append(SendResult(message_id, row["status"], reason=row["error_message"]))
            if row["status"] == "refused":
                log.info("refused to send to %s: %s", phone, row["error_message"])
            elif row["status"] == "sending":
                written.calls.append(_Call(message_id, phone, row["text"], row["template_sid"],
                                           row["template_variables"], row["attempts"]))
        return written

    def _announce(self, phones: list[str]) -> None:
        """Tell open agent consoles (after the commit) that these transcripts grew: one round trip."""
        if len(phones) <= 1 or not self.store.cache:
            for phone in phones:
                self.store.publish({"type": "message", "phone": phone, "direction": "out", "channel": "whatsapp"})
            return
        try:
            channel = events_channel(self.store.cache)
            with self.store.cache.pipeline(transaction=False) as pipe:
                for phone in phones:
                    pipe.publish(channel, json.dumps({"type": "message", "phone": phone, "direction": "out",
                                                      "channel": "whatsapp"}))
                pipe.execute()
        except redis.RedisError:
            log.warning("could not publish %d new messages", len(phones))

    def _conversations(self, session: Session, phones: set[str], now: Any) -> dict[str, Any]:
        """The conversation row of each phone, creating the missing ones (idempotently)."""
        cols = (CONVERSATIONS.c.id, CONVERSATIONS.c.phone, CONVERSATIONS.c.opted_out, CONVERSATIONS.c.last_inbound_at)
        found = {r.phone: r for r in session.execute(select(*cols).where(CONVERSATIONS.c.phone.in_(phones)))}
        missing = phones - found.keys()
        if missing:
            languages = dict(session.execute(select(CUSTOMERS.c.phone, CUSTOMERS.c.language)
                                             .where(CUSTOMERS.c.phone.in_(missing))).all())
            dialect = session.get_bind().dialect.name
            insert_ = (pg_insert if dialect == "postgresql" else sqlite_insert)(CONVERSATIONS)
            session.execute(insert_.on_conflict_do_nothing(index_elements=["phone"]),  # created concurrently: fine
                            [{"phone": p, "language": languages.get(p), "state": "bot", "opted_out": False,
                              "created_at": now, "updated_at": now, "version": 1} for p in sorted(missing)])
            found.update({r.phone: r for r in session.execute(select(*cols).where(CONVERSATIONS.c.phone.in_(missing)))})
        return found

    def _failed(self, message_id: int, attempts: int, code: str, text: str, transient: bool,
                maybe_sent: bool = False) -> SendResult:
        """Record a failed attempt, unless a recovery has already settled the row.

        `maybe_sent`: the request may have reached Twilio (e.g. no answer in time), so the row
        stays `sending` and the retry asks Twilio first (`retry` → `recover`) instead of
        sending a second copy.
        """
        permanent = code in PERMANENT_CODES or not transient
        values: dict[str, Any] = {"error_code": code, "error_message": text}
        if permanent or attempts > len(BACKOFF):
            status, delay = "failed", None
        else:
            delay = BACKOFF[attempts - 1]
            status = "sending" if maybe_sent else "retrying"
            values["next_attempt_at"] = self.clock.now() + timedelta(seconds=delay)
        with self.factory() as session:
            mine = session.execute(update(MESSAGES).where(MESSAGES.c.id == message_id, MESSAGES.c.status == "sending",
                                                          MESSAGES.c.attempts == attempts)
                                   .values(status=status, updated_at=self.clock.now(), **values)).rowcount
            session.commit()
            if not mine:
                row = session.execute(select(MESSAGES.c.status, MESSAGES.c.twilio_sid)
                                      .where(MESSAGES.c.id == message_id)).one()
                return SendResult(message_id, row.status, row.twilio_sid)
        if delay is None:
            return SendResult(message_id, "failed", reason=f"{code}: {text}")
        if self.schedule_retry:
            self.schedule_retry(message_id, delay)
        return SendResult(message_id, "retrying", reason=f"{code}: {text}")

    def _finish(self, message_id: int, status: str, **values: Any) -> None:
        self._set(message_id, status=status, **values)

    def _set(self, message_id: int, **values: Any) -> None:
        with self.factory() as session:
            session.execute(update(Message).where(Message.id == message_id).values(updated_at=self.clock.now(), **values))
            session.commit()


def _may_have_reached_twilio(exc: BaseException) -> bool:
    """False only when the request certainly never left: the connection was never made."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return not isinstance(reason, urllib3.exceptions.NewConnectionError)
    return not isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema))
