import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from orderline.db import alembic_config
from orderline.models import Base
from orderline.settings import absolute_sqlite_url
from tests.support.values import PG_ADMIN_URL


def test_migrations_match_models(db_url):
    """The schema Alembic builds is the schema the models describe, on both backends."""
    engine = create_engine(absolute_sqlite_url(db_url))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request, tmp_path):
    """A database with no schema yet, its own so it can be migrated step by step."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/steps.db"
        return
    name = "orderline_m_" + uuid.uuid4().hex[:10]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_existing_events_get_their_order_status_from_the_stored_label(empty_db):
    """0006 reads the labels already stored (Shiprocket's, an import's status names, Shiprocket's
    bare status ids) into `order_status`; anything else means no status."""
    config = alembic_config(empty_db)
    command.upgrade(config, "0005")
    engine = create_engine(absolute_sqlite_url(empty_db))
    stored = [("PICKED UP", "shiprocket", "shipped"), ("UNDELIVERED", "shiprocket", "delivery_failed"),
              ("RTO OFD", "shiprocket", "rto_initiated"), ("17", "shiprocket", "out_for_delivery"),
              ("17", "import", None), ("SHIPMENT WEIGHED", "shiprocket", None), ("SCAN", "shiprocket", None),
              ("in_transit", "import", "in_transit"), ("Delivery Failed", "import", "delivery_failed"),
              ("manifested", "import", None)]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO customers (id, name, phone, language, created_at) "
                          "VALUES (1, 'A', '+919000000001', 'en', '2026-11-01 10:00:00')"))
        conn.execute(text("INSERT INTO orders (id, order_id, number, customer_id, placed_at, items, amount, currency, "
                          "status, updated_at, version) VALUES (1, 'OL-1', '1', 1, '2026-11-01 10:00:00', '[]', 1, "
                          "'INR', 'shipped', '2026-11-01 10:00:00', 1)"))
        conn.execute(text("INSERT INTO shipments (id, order_pk, attempts) VALUES (1, 1, 0)"))
        conn.execute(text("INSERT INTO shipment_events (shipment_id, at, status, location, note, source) "
                          "VALUES (1, :at, :status, '', '', :source)"),
                     [{"at": f"2026-11-{10 + i} 10:00:00", "status": label, "source": source}
                      for i, (label, source, _) in enumerate(stored)])
    command.upgrade(config, "head")
    with engine.connect() as conn:
        found = conn.execute(text("SELECT status, source, order_status FROM shipment_events ORDER BY at")).all()
    assert [tuple(row) for row in found] == stored
    command.downgrade(config, "0005")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM shipment_events")).scalar_one() == len(stored)
    engine.dispose()


def test_existing_notifications_keep_their_rows_and_get_the_key_of_their_news(empty_db):
    """0009 keys each stored notification by the scan that caused it (a courier's notification was
    written at the scan's time), a delay by the date it announced, an import's news by ""; after it,
    a second failed attempt has room, a repeat of the same scan does not."""
    config = alembic_config(empty_db)
    command.upgrade(config, "0006")
    engine = create_engine(absolute_sqlite_url(empty_db))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO customers (id, name, phone, language, created_at) "
                          "VALUES (1, 'A', '+919000000001', 'en', '2026-11-01 10:00:00')"))
        conn.execute(text("INSERT INTO orders (id, order_id, number, customer_id, placed_at, items, amount, currency, "
                          "status, updated_at, version) VALUES (1, 'OL-1', '1', 1, '2026-11-01 10:00:00', '[]', 1, "
                          "'INR', 'delivery_failed', '2026-11-01 10:00:00', 1)"))
        conn.execute(text("INSERT INTO shipments (id, order_pk, awb, expected_date, attempts) "
                          "VALUES (1, 1, 'AWB9', '2026-11-20', 1)"))
        conn.execute(text("INSERT INTO shipment_events (shipment_id, at, status, order_status, location, note, source) "
                          "VALUES (1, :at, :status, :order_status, '', '', 'shiprocket')"),
                     [{"at": "2026-11-10 04:30:00", "status": "PICKED UP", "order_status": "shipped"},
                      {"at": "2026-11-12 03:00:00", "status": "OUT FOR DELIVERY", "order_status": "out_for_delivery"},
                      {"at": "2026-11-12 09:30:00", "status": "UNDELIVERED", "order_status": "delivery_failed"}])
        conn.execute(text("INSERT INTO notifications (order_pk, event, status, variables, attempts, created_at) "
                          "VALUES (1, :event, 'sent', :variables, 1, :at)"),
                     [{"event": "confirmed", "variables": "{}", "at": "2026-11-02 10:00:00"},
                      {"event": "shipped", "variables": "{}", "at": "2026-11-10 05:00:00"},
                      {"event": "delivery_failed", "variables": "{}", "at": "2026-11-12 09:30:00"},
                      {"event": "delayed", "variables": '{"expected_date": "2026-11-18"}', "at": "2026-11-11 10:00:00"}])
    command.upgrade(config, "head")
    with engine.connect() as conn:
        keys = dict(conn.execute(text("SELECT event, key FROM notifications")).all())
    assert keys == {"confirmed": "", "shipped": "scan:AWB9:PICKED UP:20261110T043000Z",
                    "delivery_failed": "scan:AWB9:UNDELIVERED:20261112T093000Z", "delayed": "eta:2026-11-18"}
    insert = text("INSERT INTO notifications (order_pk, event, key, status, variables, attempts, created_at) "
                  "VALUES (1, 'delivery_failed', :key, 'pending', '{}', 0, '2026-11-13 09:30:00')")
    with engine.begin() as conn:
        conn.execute(insert, {"key": "scan:AWB9:UNDELIVERED:20261113T093000Z"})  # the second attempt
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert, {"key": "scan:AWB9:UNDELIVERED:20261112T093000Z"})  # the first, again
    command.downgrade(config, "0008")  # back to one per type: the first of each is kept
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM notifications WHERE event = 'delivery_failed'")).scalar_one() == 1
    engine.dispose()
