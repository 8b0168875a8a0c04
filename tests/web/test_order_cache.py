"""The order cache never serves an order older than the last committed change."""
import json

import redis as redis_lib
from sqlalchemy import select, text

from couriers import shiprocket
from orderline.customers import remember_language
from orderline.importer import import_orders
from orderline.models import Customer
from orderline.present import order_dict
from orderline.tracking import apply_tracking
from tests.support.values import demo_id
from web.order_cache import OrderCache
from web.present import OrderReads, to_json


def test_reads_are_cached_and_writes_invalidate(services, demo):
    services.redis.flushdb()
    oid = demo_id(demo, "out_for_delivery")
    first = services.order_reads.by_ref(oid)
    assert services.redis.keys("order:body:*")  # filled
    services.orders.reschedule(oid, "2026-11-30", "evening")
    assert services.order_reads.by_ref(oid)["shipment"]["rescheduled_for"] == "2026-11-30"
    assert first["shipment"]["rescheduled_for"] is None


def orders_of(demo, phone):
    return [oid for oid, row in demo.items() if row["customer"]["phone"] == phone]


def generations(services, oids):
    return [services.redis.get(f"order:gen:{oid.split('-')[1]}") for oid in oids]


def test_a_customer_language_change_invalidates_all_their_orders(services, demo):
    """The IVR remembering a caller's language shows at once on every cached order of theirs."""
    services.redis.flushdb()
    phone = "+919000000001"
    mine = orders_of(demo, phone)
    assert len(mine) >= 3
    before = {oid: services.order_reads.by_ref(oid)["customer"]["language"] for oid in mine}
    day = services.clock.today().isoformat()
    assert all(services.redis.get(f"order:body:{oid.split('-')[1]}:{day}") for oid in mine)  # all cached
    others = [oid for oid in demo if oid not in mine][:3]
    [services.order_reads.by_ref(oid) for oid in others]
    others_gen = generations(services, others)

    (old,) = set(before.values())
    new = "hi" if old == "en" else "en"
    assert remember_language(services.sessions, phone, new)

    assert {oid: services.order_reads.by_ref(oid)["customer"]["language"] for oid in mine} == dict.fromkeys(mine, new)
    assert generations(services, others) == others_gen  # other customers' orders stay cached


def test_an_orm_edit_of_a_customer_invalidates_their_orders(services, demo):
    services.redis.flushdb()
    oid = demo_id(demo, "packed")
    assert services.order_reads.by_ref(oid)["customer"]["name"] != "Renamed Customer"
    with services.sessions() as session:
        customer = session.scalars(select(Customer).where(Customer.phone == demo[oid]["customer"]["phone"])).one()
        customer.name = "Renamed Customer"
        session.commit()
    assert services.order_reads.by_ref(oid)["customer"]["name"] == "Renamed Customer"


def test_an_unsaved_customer_edit_does_not_invalidate(services, demo):
    services.redis.flushdb()
    oid = demo_id(demo, "shipped")
    services.order_reads.by_ref(oid)
    before = generations(services, [oid])
    with services.sessions() as session:
        customer = session.scalars(select(Customer).where(Customer.phone == demo[oid]["customer"]["phone"])).one()
        customer.name = "Never Saved"
        session.flush()
        session.rollback()
    assert generations(services, [oid]) == before


def test_tracking_updates_invalidate(services, demo):
    services.redis.flushdb()
    oid = demo_id(demo, "in_transit")
    assert services.order_reads.by_ref(oid)["status"] == "in_transit"
    apply_tracking(services.sessions, shiprocket.parse({"awb": demo[oid]["shipment"]["awb"], "current_status": "DELIVERED",
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


# A customer's list (GET /orders?phone=) is cached behind a generation per phone.

def phone_list(services, phone):
    return json.loads(services.order_reads.json_for_phone(phone))["orders"]


def phone_gen(services, phone):
    return services.redis.get(f"orders:phone-gen:{phone}")


def busy_phone(demo):
    """A phone with several orders, one of them still open to a reschedule."""
    for oid, row in demo.items():
        mine = orders_of(demo, row["customer"]["phone"])
        if row["status"] == "out_for_delivery" and len(mine) >= 2:
            return row["customer"]["phone"], oid
    raise AssertionError("the demo data has no such customer")


def test_a_phone_list_is_served_from_redis_until_its_generation_moves(services, demo):
    services.redis.flushdb()
    phone, oid = busy_phone(demo)
    body = services.order_reads.json_for_phone(phone)
    assert services.redis.keys(f"orders:phone-body:{phone}:*")
    with services.engine.begin() as conn:  # behind the cache's back: no generation bump
        conn.execute(text("UPDATE customers SET name = 'Renamed' WHERE phone = :phone"), {"phone": phone})
    assert services.order_reads.json_for_phone(phone) == body
    # Any spelling of the number is the same entry.
    assert services.order_reads.json_for_phone("whatsapp:" + phone) == body
    services.order_cache.invalidate((), {phone})
    assert {o["customer"]["name"] for o in phone_list(services, phone)} == {"Renamed"}


def test_a_change_to_one_order_invalidates_its_customers_list(services, demo):
    services.redis.flushdb()
    phone, oid = busy_phone(demo)
    other_phone = next(r["customer"]["phone"] for r in demo.values() if r["customer"]["phone"] != phone)
    before = {o["order_id"]: o for o in phone_list(services, phone)}
    assert before[oid]["shipment"]["rescheduled_for"] is None
    phone_list(services, other_phone)
    others_gen = phone_gen(services, other_phone)

    services.orders.reschedule(oid, "2026-11-30", "evening")

    after = {o["order_id"]: o for o in phone_list(services, phone)}
    assert after[oid]["shipment"]["rescheduled_for"] == "2026-11-30"
    assert {k: v for k, v in after.items() if k != oid} == {k: v for k, v in before.items() if k != oid}
    assert phone_gen(services, other_phone) == others_gen  # another customer's list stays cached


def test_a_tracking_update_invalidates_the_customers_list(services, demo):
    """Tracking writes orders with Core statements, not the ORM: the list still follows."""
    services.redis.flushdb()
    oid = demo_id(demo, "in_transit")
    phone = demo[oid]["customer"]["phone"]
    assert {o["order_id"]: o["status"] for o in phone_list(services, phone)}[oid] == "in_transit"
    apply_tracking(services.sessions, shiprocket.parse({"awb": demo[oid]["shipment"]["awb"], "current_status": "DELIVERED",
                                                        "current_timestamp": "28 11 2026 10:00:00"}))
    assert {o["order_id"]: o["status"] for o in phone_list(services, phone)}[oid] == "delivered"


def test_a_new_order_for_the_phone_joins_its_cached_list(services, demo):
    services.redis.flushdb()
    phone, _ = busy_phone(demo)
    template = next(r for r in demo.values() if r["customer"]["phone"] == phone)
    assert len(phone_list(services, phone)) == len(orders_of(demo, phone))
    new = json.loads(json.dumps(template))
    new["order_id"] = "OL-999901"
    new.pop("shipment", None)
    new["status"] = "placed"
    report = import_orders(services.sessions, [new])
    assert report.errors == []
    assert "OL-999901" in {o["order_id"] for o in phone_list(services, phone)}


def test_a_customer_language_change_invalidates_their_list(services, demo):
    services.redis.flushdb()
    phone, _ = busy_phone(demo)
    (old,) = {o["customer"]["language"] for o in phone_list(services, phone)}
    new = "hi" if old == "en" else "en"
    assert remember_language(services.sessions, phone, new)
    assert {o["customer"]["language"] for o in phone_list(services, phone)} == {new}


def test_a_slow_phone_reader_cannot_cache_a_replaced_list(services, demo):
    services.redis.flushdb()
    phone, oid = busy_phone(demo)
    day = services.clock.today().isoformat()

    def slow_load():
        stale = services.order_reads.rows.for_phone(phone)
        services.orders.reschedule(oid, "2026-11-30", "evening")  # commits; the hook bumps the phone's generation
        return to_json({"orders": stale})

    def rescheduled(orders):
        return {o["order_id"]: o["shipment"]["rescheduled_for"] for o in orders}[oid]

    served = services.order_cache.phone_list(phone, day, 50, slow_load)
    assert rescheduled(json.loads(served)["orders"]) is None
    assert services.redis.get(f"orders:phone-body:{phone}:50:{day}") is None  # refused, not merely outdated
    assert rescheduled(phone_list(services, phone)) == "2026-11-30"
