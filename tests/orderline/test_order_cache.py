"""The order cache never serves an order older than the last committed change."""
import json

import redis as redis_lib
from sqlalchemy import text

from orderline.order_cache import OrderCache
from orderline.present import OrderReads, order_dict, to_json
from orderline.tracking import apply_tracking, parse_shiprocket
from tests.conftest import demo_id


def test_reads_are_cached_and_writes_invalidate(services, demo):
    services.redis.flushdb()
    oid = demo_id(demo, "out_for_delivery")
    first = services.order_reads.by_ref(oid)
    assert services.redis.keys("order:body:*")  # filled
    services.orders.reschedule(oid, "2026-11-30", "evening")
    assert services.order_reads.by_ref(oid)["shipment"]["rescheduled_for"] == "2026-11-30"
    assert first["shipment"]["rescheduled_for"] is None


def test_tracking_updates_invalidate(services, demo):
    services.redis.flushdb()
    oid = demo_id(demo, "in_transit")
    assert services.order_reads.by_ref(oid)["status"] == "in_transit"
    apply_tracking(services.sessions, parse_shiprocket({"awb": demo[oid]["shipment"]["awb"], "current_status": "DELIVERED",
                                                        "current_timestamp": "28 11 2026 10:00:00"}))
    assert services.order_reads.by_ref(oid)["status"] == "delivered"


def test_a_slow_reader_cannot_cache_a_replaced_order(services, demo):
    """The reader loads, a writer commits meanwhile; the stale read is served once, never cached."""
    services.redis.flushdb()
    oid = demo_id(demo, "placed")
    number = oid.split("-")[1]

    day = services.clock.today().isoformat()

    def slow_load():
        stale = to_json(order_dict(services.orders.get(oid), services.clock))
        services.orders.cancel(oid, "raced")  # commits and bumps the generation
        return stale

    served = services.order_cache.get_or_load(number, day, slow_load)
    assert json.loads(served)["status"] == "placed"
    assert services.redis.get(f"order:body:{number}:{day}") is None  # refused, not merely outdated
    assert services.order_reads.by_ref(oid)["status"] == "cancelled"


def test_hits_are_served_from_redis_until_the_generation_moves(services, demo):
    """A hit does not touch the database; only a generation bump makes readers reload."""
    services.redis.flushdb()
    oid = demo_id(demo, "packed")
    body = services.order_reads.json_by_ref(oid)
    with services.engine.begin() as conn:  # behind the cache's back: no generation bump
        conn.execute(text("UPDATE customers SET name = 'Renamed' WHERE id = "
                          "(SELECT customer_id FROM orders WHERE order_id = :oid)"), {"oid": oid})
    assert services.order_reads.json_by_ref(oid) == body
    services.order_cache.invalidate({oid.split("-")[1]})
    assert services.order_reads.by_ref(oid)["customer"]["name"] == "Renamed"


def test_cached_body_is_the_order_json(services, demo, app):
    services.redis.flushdb()
    oid = demo_id(demo, "delivered")
    miss, hit = services.order_reads.json_by_ref(oid), services.order_reads.json_by_ref(oid)
    with app.app_context():
        assert miss == hit == app.json.response(order_dict(services.orders.get(oid), services.clock)).get_data()


def test_without_redis_reads_hit_the_database(services, demo):
    broken = OrderCache(redis_lib.Redis(port=1, socket_connect_timeout=0.2))
    reads = OrderReads(services.orders, broken, services.clock)
    oid = demo_id(demo, "shipped")
    assert reads.by_ref(oid)["order_id"] == oid
