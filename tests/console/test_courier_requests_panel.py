"""The order panel and the dashboard show what the courier was asked, and its answer."""
from __future__ import annotations

import re

from orderline.courier_outbox import NO_ACCOUNT
from tests.support.agent_console import PHONE

CONV = f"/agent/conversations/{PHONE}"


def test_order_panel_lists_courier_requests_with_state_and_reason(as_asha, services, demo):
    order = next(o for o in services.orders.for_phone(PHONE) if o.status == "placed")
    services.orders.cancel(order.order_id, "ordered twice", actor="customer")
    req_id = services.courier_outbox.for_order(order.order_id)[0]["id"]
    page = as_asha.get(f"{CONV}?order={order.order_id}").get_data(as_text=True)
    assert "Courier requests" in page
    assert re.search(r'data-status="requested"><span class="badge">cancellation</span> requested', page), page
    services.courier_outbox.process(req_id)  # no Shiprocket account in tests: settles "not sent"
    page = as_asha.get(f"{CONV}?order={order.order_id}").get_data(as_text=True)
    assert 'data-status="not_sent"' in page and NO_ACCOUNT in page


def test_dashboard_counts_courier_requests_by_state(as_asha, services, demo):
    placed = [o.order_id for o in services.orders.for_phone(PHONE) if o.status == "placed"]
    services.orders.cancel(placed[0])
    page = as_asha.get("/agent/insights").get_data(as_text=True)
    section = page[page.index('id="courier-requests"'):]
    assert re.search(r'data-state="requested"><span class="kpi-name">Requested</span> <strong class="kpi-value">1<',
                     section), section[:800]
    assert re.search(r'data-state="accepted">.*?kpi-value">0<', section)
