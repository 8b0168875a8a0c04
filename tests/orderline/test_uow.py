"""The unit of work: events recorded in a transaction reach their hooks once it commits, and only then."""
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from orderline.db import session_factory
from orderline.models import Agent, Order
from orderline.orders import in_transaction
from orderline.uow import (
    AfterCommit,
    ConversationStateChanged,
    NotificationQueued,
    OrderChanged,
    events,
    record,
)


class Seen:
    """Each hook call's events, by the event type it was registered for."""

    def __init__(self, hooks: AfterCommit) -> None:
        self.calls: dict[type, list[list]] = {OrderChanged: [], NotificationQueued: [], ConversationStateChanged: []}
        for kind, calls in self.calls.items():
            hooks.on(kind, calls.append)

    def __getitem__(self, kind: type) -> list[list]:
        return self.calls[kind]


@pytest.fixture
def factory(services):
    return session_factory(services.engine)


@pytest.fixture
def seen(factory):
    hooks = AfterCommit()
    calls = Seen(hooks)
    hooks.install(factory)
    return calls


def agents(factory) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Agent))


def test_events_reach_their_hooks_once_after_commit(factory, seen):
    def work(session):
        session.add(Agent(name="asha", password_hash="x"))
        record(session, OrderChanged("100201"))
        record(session, OrderChanged("100202"))
        session.flush()
        assert seen[OrderChanged] == []  # not before the commit
        return events(session, OrderChanged)

    assert in_transaction(factory, work) == [OrderChanged("100201"), OrderChanged("100202")]
    assert seen[OrderChanged] == [[OrderChanged("100201"), OrderChanged("100202")]]
    in_transaction(factory, lambda session: session.add(Agent(name="bilal", password_hash="x")))
    assert len(seen[OrderChanged]) == 1  # a later commit does not fire them again


def test_hooks_see_only_their_own_event_types(factory, seen):
    def work(session):
        record(session, ConversationStateChanged("+919000000001", "agent"))
        record(session, NotificationQueued(7))
        record(session, ConversationStateChanged("+919000000001", "bot"))

    in_transaction(factory, work)
    assert seen[ConversationStateChanged] == [[ConversationStateChanged("+919000000001", "agent"),
                                               ConversationStateChanged("+919000000001", "bot")]]
    assert seen[NotificationQueued] == [[NotificationQueued(7)]]
    assert seen[OrderChanged] == []  # nothing of its type: not called at all


def test_a_rolled_back_transaction_fires_nothing(factory, seen):
    def work(session):
        session.add(Agent(name="asha", password_hash="x"))
        record(session, OrderChanged("100201"))
        session.flush()
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        in_transaction(factory, work)
    assert agents(factory) == 0 and seen[OrderChanged] == []


def test_a_session_reused_after_rollback_fires_only_what_it_committed(factory, seen):
    with factory() as session:
        session.add(Agent(name="asha", password_hash="x"))
        record(session, OrderChanged("100201"))
        session.flush()
        session.rollback()
        assert events(session, OrderChanged) == []
        session.add(Agent(name="bilal", password_hash="x"))
        record(session, OrderChanged("100202"))
        session.commit()
    assert seen[OrderChanged] == [[OrderChanged("100202")]]


def test_a_session_closed_without_commit_forgets_its_events(factory, seen):
    with factory() as session:
        session.scalar(select(func.count()).select_from(Agent))
        record(session, OrderChanged("100201"))
        session.close()
        session.add(Agent(name="asha", password_hash="x"))
        session.commit()
    assert seen[OrderChanged] == []


def test_a_retried_transaction_fires_only_the_attempt_that_committed(factory, seen):
    attempts = []

    def work(session):
        attempts.append(1)
        session.add(Agent(name=f"agent{len(attempts)}", password_hash="x"))
        record(session, OrderChanged(f"10020{len(attempts)}"))
        session.flush()
        if len(attempts) == 1:
            raise StaleDataError("another writer got there first")  # what the ORM raises; retried

    in_transaction(factory, work)
    assert len(attempts) == 2 and agents(factory) == 1
    assert seen[OrderChanged] == [[OrderChanged("100202")]]


def test_a_rolled_back_savepoint_takes_only_its_own_events(factory, seen):
    with factory() as session:
        session.add(Agent(name="asha", password_hash="x"))
        record(session, OrderChanged("100201"))
        savepoint = session.begin_nested()
        record(session, OrderChanged("100202"))
        savepoint.rollback()
        with session.begin_nested():  # released, not committed: nothing fires yet
            record(session, OrderChanged("100203"))
        assert seen[OrderChanged] == []
        session.commit()
    assert seen[OrderChanged] == [[OrderChanged("100201"), OrderChanged("100203")]]


def test_a_failing_hook_neither_stops_the_others_nor_fails_the_commit(factory, caplog):
    hooks = AfterCommit()

    def broken(_events):
        raise RuntimeError("redis is on fire")

    hooks.on(OrderChanged, broken)
    later = Seen(hooks)
    hooks.install(factory)
    in_transaction(factory, lambda session: (session.add(Agent(name="asha", password_hash="x")),
                                             record(session, OrderChanged("100201"))))
    assert agents(factory) == 1 and later[OrderChanged] == [[OrderChanged("100201")]]
    assert "after-commit hook" in caplog.text


def test_an_orm_flush_records_the_orders_it_touches(demo, factory, seen):
    oid = next(oid for oid, row in demo.items() if row["status"] == "packed")
    with factory() as session:
        order = session.scalars(select(Order).where(Order.order_id == oid)).one()
        order.address.landmark = "opposite the temple"
        session.commit()
    assert seen[OrderChanged] == [[OrderChanged(oid.split("-")[1])]]
