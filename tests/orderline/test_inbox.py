"""The tracking inbox: accepted events are applied once, in batches, whatever else is in it."""
import json
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from couriers import shiprocket
from orderline.clock import Clock
from orderline.db import make_engine
from orderline.errors import InvalidInput
from orderline.inbox import DRAIN_LOCK, TrackingInbox
from orderline.models import InboxEvent, Notification, Order, ShipmentEvent
from tests.support.values import NOW


PARSERS = {"shiprocket": shiprocket.parse}


def body(awb, label, ts, **extra):
    return json.dumps({"awb": awb, "current_status": label, "current_timestamp": ts, "courier_name": "Delhivery",
                       "scans": [], **extra})


def in_transit(demo):
    return [(oid, r["shipment"]["awb"]) for oid, r in demo.items() if r["status"] == "in_transit"]


def test_accepted_events_wait_then_apply_once(services, demo, orders):
    inbox = services.inbox
    (oid, awb), *_ = in_transit(demo)
    first = inbox.accept(body(awb, "OUT FOR DELIVERY", "28 11 2026 09:00:00"), "shiprocket")
    second = inbox.accept(body(awb, "OUT FOR DELIVERY", "28 11 2026 09:00:00"), "shiprocket")  # Shiprocket's retry
    assert second > first and inbox.pending() == 2 and orders.get(oid).status == "in_transit"
    done = inbox.drain()
    assert done.processed == 2 and done.outcomes == {"applied": 1, "duplicate": 1}
    assert len(done.notification_ids) == 1
    assert inbox.pending() == 0 and inbox.drain().processed == 0
    assert orders.get(oid).status == "out_for_delivery"


@contextmanager
def inbox_writes_blocked(engine):
    """Hold the inbox's write lock, as a long-running statement elsewhere would."""
    with engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE already holds the database's write lock
        if engine.dialect.name == "postgresql":
            conn.execute(text("LOCK TABLE tracking_inbox IN EXCLUSIVE MODE"))
        conn.execute(select(1))
        yield


def accept_in_threads(inbox, payloads, blocked=True):
    """Every payload accepted from its own thread (while writes are blocked, unless told
    otherwise); returns {payload: id or exception} once all have been answered."""
    results = {}

    def accept(payload):
        try:
            results[payload] = inbox.accept(payload, "shiprocket")
        except Exception as exc:  # noqa: BLE001 - asserted by the caller
            results[payload] = exc

    threads = [threading.Thread(target=accept, args=(p,)) for p in payloads]
    if blocked:
        with inbox_writes_blocked(inbox.engine):
            for t in threads:
                t.start()
            time.sleep(0.5)  # the first INSERT is stuck on the lock; the rest queue behind it
            assert results == {}  # nobody was answered before their event was stored
    else:
        for t in threads:
            t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    return results


def test_events_arriving_during_a_write_go_together_in_the_next(services, demo):
    """Group commit: callers waiting on a write share one INSERT, each gets its own row's id,
    and the hook runs once per group, after the group is committed."""
    seen = []

    def hook():
        with services.engine.connect() as conn:
            seen.append(conn.execute(select(func.count()).select_from(InboxEvent)).scalar_one())

    inbox = TrackingInbox(services.engine, services.sessions, services.clock, PARSERS, on_accepted=hook)
    payloads = [body(f"GC{i:03d}", "OUT FOR DELIVERY", "28 11 2026 09:00:00") for i in range(20)]
    results = accept_in_threads(inbox, payloads)
    assert sorted(results) == sorted(payloads) and len(set(results.values())) == 20
    with services.engine.connect() as conn:
        stored = dict(conn.execute(select(InboxEvent.id, InboxEvent.payload)).all())
    assert {results[p]: p for p in payloads} == stored  # each caller got the id of its own event
    # The first group was stuck on the lock; everyone else queued meanwhile and went in one more.
    assert len(seen) == 2 and seen[-1] == 20
    assert inbox.accept(body("GC999", "DELIVERED", "28 11 2026 12:00:00"), "shiprocket") > max(stored)  # and alone, at once
    assert len(seen) == 3


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # its own SQLite database either way
def test_a_failed_group_write_fails_each_caller_and_the_next_write_goes_ahead(services, tmp_path):
    """Every caller of a failed INSERT hears of it (Shiprocket then retries), including those
    who waited for someone else's write, and no one is left waiting on a writer that gave up."""
    engine = make_engine(f"sqlite:///{tmp_path}/refusing.db")
    with engine.begin() as conn:  # an inbox that refuses these test events once the write lock is had
        conn.execute(text("CREATE TABLE tracking_inbox (id INTEGER PRIMARY KEY, source TEXT NOT NULL, "
                          "payload TEXT NOT NULL CHECK (payload NOT LIKE '%REFUSED%'), received_at TEXT)"))
    hooked = []
    inbox = TrackingInbox(engine, services.sessions, services.clock, PARSERS, on_accepted=lambda: hooked.append(1))
    payloads = [body(f"REFUSED{i}", "OUT FOR DELIVERY", "28 11 2026 09:00:00") for i in range(6)]
    results = accept_in_threads(inbox, payloads)  # one stuck writer, five queued behind it
    assert len(results) == 6 and hooked == []
    assert all("CHECK constraint failed" in str(r) for r in results.values()), results
    assert inbox.accept(body("GF1", "OUT FOR DELIVERY", "28 11 2026 09:00:00"), "shiprocket") == 1 and hooked == [1]
    engine.dispose()


def test_batches_are_bounded(services, demo):
    inbox = TrackingInbox(services.engine, services.sessions, services.clock, PARSERS, batch=2)
    for _, awb in in_transit(demo)[:5]:
        inbox.accept(body(awb, "OUT FOR DELIVERY", "28 11 2026 09:00:00"), "shiprocket")
    first = inbox.drain_batch()
    assert (first.processed, first.full) == (2, True)
    rest = inbox.drain()
    assert rest.processed == 3 and not rest.full and inbox.pending() == 0


def test_an_unparseable_event_is_recorded_not_retried_forever(services, demo, orders):
    inbox = services.inbox
    (oid, awb), *_ = in_transit(demo)
    bad = inbox.accept('{"awb": ""}', "shiprocket")  # stored by an older, laxer webhook
    good = inbox.accept(body(awb, "OUT FOR DELIVERY", "28 11 2026 09:00:00"), "shiprocket")
    assert inbox.drain().outcomes == {"failed": 1, "applied": 1}
    assert inbox.outcome(bad)["outcome"] == "failed" and "awb" in inbox.outcome(bad)["error"]
    assert inbox.outcome(good)["outcome"] == "applied" and orders.get(oid).status == "out_for_delivery"


def test_an_event_from_a_source_without_a_parser_is_set_aside_with_the_reason(services, demo, orders):
    """The inbox reads each source with the parser it was given; it guesses at no other."""
    (oid, awb), *_ = in_transit(demo)
    inbox = TrackingInbox(services.engine, services.sessions, services.clock, PARSERS)
    with pytest.raises(InvalidInput) as refused:
        inbox.parse("bluedart", json.loads(body(awb, "DELIVERED", "28 11 2026 12:00:00")))
    assert "bluedart" in str(refused.value.fields)
    stray = inbox.accept(body(awb, "DELIVERED", "28 11 2026 12:00:00"), "bluedart")  # stored by a release that read Blue Dart
    good = inbox.accept(body(awb, "OUT FOR DELIVERY", "28 11 2026 09:00:00"), "shiprocket")
    assert inbox.drain().outcomes == {"failed": 1, "applied": 1} and inbox.pending() == 0
    assert inbox.outcome(stray) == {"outcome": "failed", "order_id": None, "error": "no parser for source 'bluedart'"}
    assert inbox.outcome(good)["outcome"] == "applied" and orders.get(oid).status == "out_for_delivery"


def test_one_event_that_cannot_apply_does_not_hold_up_the_rest(services, demo, orders):
    """A batch that fails is replayed event by event; only the culprit is set aside, with the reason."""
    (a, awb_a), (b, awb_b), (c, awb_c), *_ = in_transit(demo)
    with services.engine.begin() as conn:  # e.g. a status only a newer release knows, mid-deploy
        conn.execute(update(Order).where(Order.order_id == b).values(status="on_hold"))
    inbox = services.inbox
    ids = [inbox.accept(body(awb, "DELIVERED", "28 11 2026 12:00:00"), "shiprocket") for awb in (awb_a, awb_b, awb_c)]
    done = inbox.drain()
    assert done.outcomes == {"applied": 2, "failed": 1} and inbox.pending() == 0
    assert [inbox.outcome(i)["outcome"] for i in ids] == ["applied", "failed", "applied"]
    assert "on_hold" in inbox.outcome(ids[1])["error"]
    assert (orders.get(a).status, orders.get(c).status) == ("delivered", "delivered")
    with services.sessions() as s:
        sid = s.scalars(select(Order).where(Order.order_id == b)).one().shipment.id
        assert s.scalars(select(ShipmentEvent).where(ShipmentEvent.shipment_id == sid, ShipmentEvent.status == "DELIVERED")).all() == []


def test_concurrent_drains_apply_each_event_once(services, demo, orders):
    """Two workers draining at once: every event applied once, in the order it arrived."""
    inbox = TrackingInbox(services.engine, services.sessions, services.clock, PARSERS, batch=7)
    shipments = in_transit(demo)
    steps = [("OUT FOR DELIVERY", "28 11 2026 09:00:00"), ("UNDELIVERED", "28 11 2026 15:00:00"),
             ("OUT FOR DELIVERY", "29 11 2026 09:00:00"), ("DELIVERED", "29 11 2026 12:00:00")]
    for label, ts in steps:
        for _, awb in shipments:
            inbox.accept(body(awb, label, ts), "shiprocket")
            inbox.accept(body(awb, label, ts), "shiprocket")  # every event twice, as Shiprocket retries
    totals, errors = [], []

    def drain():
        try:
            totals.append(inbox.drain())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    outcomes = sum((t.outcomes for t in totals), start=type(totals[0].outcomes)())
    assert sum(outcomes.values()) == 2 * len(steps) * len(shipments) and inbox.pending() == 0
    assert outcomes["applied"] == len(steps) * len(shipments) and outcomes["duplicate"] == len(steps) * len(shipments)
    for oid, _ in shipments:  # as if applied one by one, in order: one failed attempt counted
        order = orders.get(oid)
        assert order.status == "delivered" and order.shipment.attempts == demo[oid]["shipment"]["attempts"] + 1
    with services.sessions() as s:
        notes = s.scalars(select(Notification)).all()
    # out_for_delivery on both days (the reattempt is news), delivery_failed, delivered: once each
    assert len(notes) == 4 * len(shipments)


def test_purge_forgets_old_processed_events_only(services, demo):
    (_, awb), *_ = in_transit(demo)
    inbox = services.inbox
    old = inbox.accept(body(awb, "OUT FOR DELIVERY", "28 11 2026 09:00:00"), "shiprocket")
    inbox.drain()
    waiting = inbox.accept(body(awb, "DELIVERED", "28 11 2026 12:00:00"), "shiprocket")
    later = TrackingInbox(services.engine, services.sessions, Clock.fixed(NOW + timedelta(days=4)), PARSERS)
    assert later.purge() == 1
    with services.engine.connect() as conn:
        assert conn.execute(select(InboxEvent.id)).scalars().all() == [waiting]
    assert old != waiting


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_second_drain_waits_its_turn(services, demo, orders):
    """Drains take turns (an advisory lock), so one never overtakes another's earlier events."""
    (oid, awb), *_ = in_transit(demo)
    inbox = services.inbox
    inbox.accept(body(awb, "OUT FOR DELIVERY", "28 11 2026 09:00:00"), "shiprocket")
    done = []
    with services.engine.connect() as conn:
        conn.execute(select(func.pg_advisory_xact_lock(DRAIN_LOCK)))  # as if a drain were mid-batch
        second = threading.Thread(target=lambda: done.append(inbox.drain()))
        second.start()
        second.join(1.0)
        assert second.is_alive() and inbox.pending() == 1
        conn.rollback()
    second.join(30)
    assert done[0].processed == 1 and orders.get(oid).status == "out_for_delivery"
