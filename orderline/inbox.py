"""The inbox: courier and store events are accepted in one INSERT and applied later, in batches.

`accept` is all the webhook does after checking the token and the payload's shape, so it
answers quickly however busy the order tables are. `drain` (run by the RQ worker, and by tests)
claims a batch of unprocessed rows, reads each with the parser given for its `source` (a courier
or store adapter's; the inbox knows no vendor), applies them in arrival order (a courier's
`TrackingUpdate` with `orderline.tracking.apply_updates`, a store's `StoreOrder` with
`orderline.store_orders.apply_store_orders`), and marks them processed in the same transaction as the order changes and the notification rows.
A worker that dies mid-batch commits nothing: the rows are still unprocessed and the next drain
applies them, so every accepted event takes effect exactly once.
"""
from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from itertools import groupby
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any, Callable, Mapping, Optional

from sqlalchemy import Engine, bindparam, delete, event, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from orderline.clock import Clock
from orderline.db import make_engine
from orderline.errors import InvalidInput
from orderline.models import InboxEvent
from orderline.store_orders import StoreOrder, apply_store_orders
from orderline.tracking import TrackingResult, TrackingUpdate, apply_updates
from orderline.uow import NotificationQueued, events

log = logging.getLogger(__name__)
INBOX = InboxEvent.__table__
BATCH = 200  # events per transaction: enough to amortise its fixed cost, short enough to hold locks briefly
RETRIES = 3
DRAIN_LOCK = 0x6F6C_7472_6163_6B  # pg_advisory_xact_lock key: "oltrack"
KEEP = timedelta(days=3)  # processed rows kept for support questions ("did you get event X?")
ACCEPT_GROUP = 64  # most events one INSERT of `accept` writes (16 threads per web worker rarely wait for more)

# Reads one source's decoded JSON payload; raises InvalidInput (or ValueError) if it is malformed.
Parser = Callable[[Any], TrackingUpdate | StoreOrder]


class _Accept:
    """One event waiting in `accept`: its id once written, or the error that stopped it."""

    __slots__ = ("source", "payload", "result", "leads", "wake")

    def __init__(self, source: str, payload: str) -> None:
        self.source = source
        self.payload = payload
        self.result: Optional[int | Exception] = None
        self.leads = False  # woken to write the next group rather than with a result
        self.wake = threading.Lock()
        self.wake.acquire()  # held until its thread may go on

    def outcome(self) -> int:
        if isinstance(self.result, Exception):
            raise self.result
        assert self.result is not None
        return self.result


@dataclass
class Drained:
    """What one `drain_batch` did."""

    processed: int = 0
    notification_ids: list[int] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    full: bool = False  # the batch was full: there is probably more to do


class TrackingInbox:
    """Courier and store events by source: `parsers` maps each `source` stored with an event to its parser."""

    def __init__(self, engine: Engine, factory: sessionmaker[Session], clock: Clock, parsers: Mapping[str, Parser],
                 batch: int = BATCH, on_accepted: Optional[Callable[[], object]] = None) -> None:
        self.engine = engine
        self.factory = factory
        self.clock = clock
        self.parsers = dict(parsers)
        self.batch = batch
        # Called once per committed group of accepted events (the app queues a drain with it).
        self.on_accepted = on_accepted
        self._mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._lock = threading.Lock()
        self._waiting: list[_Accept] = []
        self._writing = False

    @cached_property
    def _accept_engine(self) -> Engine:
        """A pool of autocommit connections for `accept` alone: the INSERT is the whole
        transaction, so it costs one round trip (no BEGIN, COMMIT or pre-ping). One thread at a
        time writes (see `accept`), but a retry may need a second connection."""
        fast = make_engine(self.engine.url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT",
                           pool_pre_ping=False, pool_size=2, max_overflow=2)
        event.listen(self.engine, "engine_disposed", lambda _engine: fast.dispose())
        return fast

    def parse(self, source: str, payload: Any) -> TrackingUpdate | StoreOrder:
        """`payload` (decoded JSON) read by `source`'s parser; raises InvalidInput if it is malformed,
        or if no parser reads `source`. A webhook checks an event with this before `accept`."""
        parser = self.parsers.get(source)
        if parser is None:
            raise InvalidInput({"source": f"no parser for source {source!r}"})
        return parser(payload)

    def accept(self, payload: str, source: str) -> int:
        """Store one raw event (JSON text) from `source` durably (committed on return); returns its inbox id.

        The caller has validated its shape (`parse`). This is the webhook's whole cost, so it is written
        with group commit: while one thread's INSERT is in flight, events arriving on other
        threads wait, and the next writer stores all of them (up to ACCEPT_GROUP) with one
        multi-row INSERT, which is also its commit. Alone, an event is written at once by its
        own thread. `on_accepted` runs once per group, after its commit. Each waiting thread
        is woken exactly once: with its id, or to write the next group. See docs/benchmarks.md (#6).
        """
        mine = _Accept(source, payload)
        with self._lock:
            self._waiting.append(mine)
            leads = not self._writing
            self._writing = True
        if not leads:
            mine.wake.acquire()  # released by the writer of its group, or to make it the next writer
            if not mine.leads:
                return mine.outcome()
        self._write_until_done(mine)
        return mine.outcome()

    def _write_until_done(self, mine: "_Accept") -> None:
        """Write groups, oldest events first, until `mine` is stored; then hand over to the
        oldest waiting event's thread, or stop writing if none waits."""
        group: list[_Accept] = []
        try:
            while mine.result is None:
                with self._lock:
                    group = self._waiting[:ACCEPT_GROUP]
                    del self._waiting[:ACCEPT_GROUP]
                try:
                    ids: list[Any] = self._insert(group)
                except Exception as exc:  # every event of the group fails alike; each caller raises it
                    ids = [exc] * len(group)
                for waiting, result in zip(group, ids):
                    waiting.result = result
                    if waiting is not mine:
                        waiting.wake.release()
                group = []
                if self.on_accepted is not None and not isinstance(ids[0], Exception):
                    # Still the writer: events arriving meanwhile gather into the next group.
                    try:
                        self.on_accepted()
                    except Exception:  # noqa: BLE001 - the events are stored; the periodic drain applies them
                        log.exception("on_accepted failed; the periodic drain will apply the events")
        finally:
            for waiting in group:  # a BaseException (the worker being stopped) interrupted the write
                waiting.result = RuntimeError("inbox write interrupted")
                if waiting is not mine:
                    waiting.wake.release()
            with self._lock:
                if self._waiting:
                    nxt = self._waiting[0]
                    nxt.leads = True
                    nxt.wake.release()
                else:
                    self._writing = False

    def _insert(self, group: list["_Accept"]) -> list[int]:
        """One INSERT ... RETURNING for the group, retried once on a fresh connection."""
        rows = ", ".join([f"({self._mark}, {self._mark})"] * len(group))
        sql = f"INSERT INTO {INBOX.name} (source, payload) VALUES {rows} RETURNING id"
        params = tuple(v for waiting in group for v in (waiting.source, waiting.payload))
        for attempt in range(2):
            conn = self._accept_engine.raw_connection()
            try:
                cursor = conn.cursor()
                cursor.execute(sql, params)
                # Ids ascend in VALUES order (one sequence, or SQLite's rowid, drawn row by row),
                # but RETURNING's row order is not promised: sort them back into that order.
                ids = sorted(row[0] for row in cursor.fetchall())
                cursor.close()
                if len(ids) != len(group):
                    raise RuntimeError(f"inbox INSERT returned {len(ids)} ids for {len(group)} events")
                conn.commit()  # a no-op in autocommit; needed if the driver ignored it
                return ids
            except self._accept_engine.dialect.loaded_dbapi.OperationalError:
                # A connection the server closed: retry once on a new one. Should the first
                # INSERT have committed after all, the second rows are harmless duplicate events.
                conn.invalidate()
                if attempt:
                    raise
            finally:
                conn.close()
        raise AssertionError("unreachable")

    def pending(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(INBOX).where(INBOX.c.processed_at.is_(None))).scalar_one()

    def outcome(self, inbox_id: int) -> Optional[dict[str, Any]]:
        """An accepted event's fate: None until the worker has applied it."""
        with self.engine.connect() as conn:
            row = conn.execute(select(INBOX.c.processed_at, INBOX.c.outcome, INBOX.c.order_id, INBOX.c.error)
                               .where(INBOX.c.id == inbox_id)).first()
        if row is None or row.processed_at is None:
            return None
        return {"outcome": row.outcome, "order_id": row.order_id, "error": row.error}

    def drain(self, max_batches: Optional[int] = None) -> Drained:
        """Apply batches until the inbox is empty (or `max_batches`); returns the totals."""
        total = Drained()
        batches = 0
        while max_batches is None or batches < max_batches:
            done = self.drain_batch()
            batches += 1
            total.processed += done.processed
            total.notification_ids += done.notification_ids
            total.outcomes.update(done.outcomes)
            total.full = done.full
            if not done.full:
                break
        return total

    def drain_batch(self) -> Drained:
        """Take up to `batch` unprocessed rows, oldest first, and apply them in one transaction.

        Concurrent drains (several workers) take turns, batch by batch, so events apply in the
        order they arrived; sends still run on every worker. Lock conflicts are retried; a batch
        that fails for another reason is replayed one event at a time, so one bad event cannot
        hold up the rest. A lost database connection is raised: the rows stay in the inbox for
        the next drain.
        """
        for attempt in range(RETRIES):
            try:
                return self._apply_batch(None)
            except OperationalError as exc:
                if not _retryable(exc) or attempt == RETRIES - 1:
                    raise
            except Exception as exc:  # noqa: BLE001 - isolate the event that causes it
                log.warning("inbox batch failed (%r); replaying it one event at a time", exc)
                return self._one_by_one()
        raise AssertionError("unreachable")

    def purge(self) -> int:
        """Forget processed events older than KEEP."""
        with self.engine.begin() as conn:
            return conn.execute(delete(INBOX).where(INBOX.c.processed_at < self.clock.now() - KEEP)).rowcount

    # -- internals -------------------------------------------------------------
    def _apply_batch(self, only_id: Optional[int]) -> Drained:
        claim = select(INBOX.c.id, INBOX.c.source, INBOX.c.payload).where(INBOX.c.processed_at.is_(None))
        claim = claim.where(INBOX.c.id == only_id) if only_id is not None else claim
        with self.factory() as session:
            if session.get_bind().dialect.name == "postgresql":
                # One drain at a time (SQLite's BEGIN IMMEDIATE already does this), so events
                # apply in arrival order: two drains splitting a shipment's events could apply
                # a later event first and turn the earlier one into stale news.
                session.execute(select(func.pg_advisory_xact_lock(DRAIN_LOCK)))
            rows = session.execute(claim.order_by(INBOX.c.id).limit(self.batch)).all()
            if not rows:
                return Drained()
            now = self.clock.now()
            marks: list[dict[str, Any]] = []
            parsed = []
            for row in rows:
                if row.source not in self.parsers:  # e.g. a courier this deployment no longer reads
                    marks.append(_mark(row.id, now, TrackingResult(None, "failed"),
                                       f"no parser for source {row.source!r}"))
                    continue
                try:
                    parsed.append((row.id, self.parsers[row.source](json.loads(row.payload))))
                except (ValueError, InvalidInput) as exc:  # accepted by an older, laxer webhook
                    marks.append(_mark(row.id, now, TrackingResult(None, "failed"), f"unparseable: {exc}"))
            results = _apply_in_order(session, [u for _, u in parsed], now)
            note_ids = [e.notification_id for e in events(session, NotificationQueued)]
            marks += [_mark(inbox_id, now, result) for (inbox_id, _), result in zip(parsed, results)]
            session.execute(update(INBOX).where(INBOX.c.id == bindparam("b_id")), marks)
            session.commit()
        return Drained(len(rows), note_ids, Counter(m["outcome"] for m in marks), full=len(rows) == self.batch)

    def _one_by_one(self) -> Drained:
        with self.engine.connect() as conn:
            ids = list(conn.execute(select(INBOX.c.id).where(INBOX.c.processed_at.is_(None))
                                    .order_by(INBOX.c.id).limit(self.batch)).scalars())
        total = Drained(full=len(ids) == self.batch)
        for inbox_id in ids:
            for attempt in range(2):
                try:
                    done = self._apply_batch(inbox_id)
                    break
                except OperationalError:
                    raise
                except Exception as exc:  # noqa: BLE001
                    if attempt == 0:
                        continue
                    log.exception("inbox event %s cannot be applied; marked failed", inbox_id)
                    done = self._fail(inbox_id, exc)
            total.processed += done.processed
            total.notification_ids += done.notification_ids
            total.outcomes.update(done.outcomes)
        return total

    def _fail(self, inbox_id: int, exc: Exception) -> Drained:
        reason = str(getattr(exc, "orig", None) or exc) or exc.__class__.__name__
        with self.engine.begin() as conn:
            marked = conn.execute(update(INBOX).where(INBOX.c.id == inbox_id, INBOX.c.processed_at.is_(None)).values(
                processed_at=self.clock.now(), outcome="failed", error=reason[:300])).rowcount
        return Drained(marked, outcomes=Counter({"failed": marked}))


def _apply_in_order(session: Session, news: list[TrackingUpdate | StoreOrder], now: Any) -> list[TrackingResult]:
    """Each run of one kind applied together, runs in arrival order (a store's new order before a
    courier's first scan for it)."""
    results: list[TrackingResult] = []
    for kind, run in groupby(news, key=type):
        items: list[Any] = list(run)
        results += apply_store_orders(session, items, now) if kind is StoreOrder else apply_updates(session, items)
    return results


def _mark(inbox_id: int, now: Any, result: TrackingResult, error: Optional[str] = None) -> dict[str, Any]:
    if result.outcome == "conflict":
        error = f"the number belongs to order {result.order_id}; not merged"
    return {"b_id": inbox_id, "processed_at": now, "outcome": result.outcome, "order_id": result.order_id,
            "error": error[:300] if error else None}


def _retryable(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return any(k in text for k in ("locked", "deadlock", "could not serialize", "busy"))
