"""A store order nobody can be messaged about is kept and shown to agents on the queue page."""
import json

from orderline.inbox import TrackingInbox
from stores import shopify
from tests.support.stores import shopify_order


def apply(services, payload) -> None:
    inbox = TrackingInbox(services.engine, services.sessions, services.clock, {shopify.SOURCE: shopify.parse})
    inbox.accept(json.dumps(payload), shopify.SOURCE)
    assert inbox.drain().outcomes == {"created": 1}


def test_the_queue_lists_orders_that_need_a_person(as_asha, services):
    apply(services, shopify_order(customer={"first_name": "Kabir", "last_name": "Shah", "phone": None}))
    page = as_asha.get("/agent/").get_data(as_text=True)
    assert "Orders that need a person" in page
    assert "#2041" in page and "SH-2041" in page and "Meera Nair" in page and "no usable phone" in page


def test_no_section_when_every_order_is_reachable(as_asha, services):
    apply(services, shopify_order())
    assert "Orders that need a person" not in as_asha.get("/agent/").get_data(as_text=True)
