"""The order cache never serves an order older than the last committed change."""
import redis as redis_lib

from orderline.order_cache import OrderCache
from orderline.present import OrderReads, order_dict
from orderline.tracking import apply_tracking, parse_shiprocket
from tests.conftest import demo_id


def test_reads_are_cached_and_writes_invalidate(services, demo):
    services.redis.flushdb()
    oid = demo_id(demo, "out_for_delivery")
    first = services.order_reads.by_ref(oid)
    assert services.redis.keys("order:json:*")  # filled
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

    def slow_load():
        stale = order_dict(services.orders.get(oid), services.clock)
        services.orders.cancel(oid, "raced")  # commits and bumps the generation
        return stale

    served = services.order_cache.get_or_load(number, services.clock.today().isoformat(), slow_load)
    assert served["status"] == "placed"
    assert services.order_reads.by_ref(oid)["status"] == "cancelled"


def test_without_redis_reads_hit_the_database(services, demo):
    broken = OrderCache(redis_lib.Redis(port=1, socket_connect_timeout=0.2))
    reads = OrderReads(services.orders, broken, services.clock)
    oid = demo_id(demo, "shipped")
    assert reads.by_ref(oid)["order_id"] == oid
