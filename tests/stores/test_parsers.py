"""Shopify's and WooCommerce's order payloads read into the core's StoreOrder (no HTTP, no database)."""
from datetime import datetime, timezone

import pytest

from orderline.errors import InvalidInput
from stores import shopify, woocommerce
from tests.support.stores import STORE_PHONE, shopify_order, woo_order


def test_shopify_order_is_read_into_the_import_format():
    news = shopify.parse(shopify_order())
    row = news.row
    assert (news.source, news.store_ref, news.cancelled) == ("shopify", "#2041", False)
    assert (row["order_id"], row["number"], row["status"]) == ("SH-2041", "2041", "placed")
    assert row["customer"]["phone"] == STORE_PHONE and row["customer"]["name"] == "Meera Nair"
    assert row["payment"]["method"] == "cod" and row["payment"]["status"] == "pending"
    assert str(row["amount"]) == "1298.00" and row["address"]["pincode"] == "560001"
    assert news.updated_at == datetime(2026, 11, 28, 5, 0, 5, tzinfo=timezone.utc)
    assert row["needs_agent"] is None


@pytest.mark.parametrize("where", ["phone", "customer", "shipping_address"])
def test_shopify_phone_comes_from_the_order_the_customer_or_the_shipping_address(where):
    order = shopify_order(customer={"first_name": "Meera", "phone": None})
    if where == "phone":
        order["phone"] = "98450 12345"
    elif where == "customer":
        order["customer"]["phone"] = "+91 98450 12345"
    else:
        order["shipping_address"]["phone"] = "098450-12345"
    assert shopify.parse(order).row["customer"]["phone"] == "+919845012345"


@pytest.mark.parametrize("gateways,gateway,cod", [
    (["Cash on Delivery (COD)"], None, True), ([], "cash on delivery", True), (["COD"], None, True),
    (["shopify_payments"], "shopify_payments", False), (["razorpay"], None, False), (["Codapay"], None, False),
])
def test_shopify_cod_from_the_gateways(gateways, gateway, cod):
    news = shopify.parse(shopify_order(payment_gateway_names=gateways, gateway=gateway, financial_status="paid"))
    assert (news.row["payment"]["method"] == "cod") is cod
    assert news.row["status"] == ("placed" if cod else "confirmed")


def test_shopify_cancelled_and_flagged():
    news = shopify.parse(shopify_order(cancelled_at="2026-11-28T12:00:00+05:30",
                                       customer={"phone": "n/a"}, shipping_address=None))
    assert news.cancelled
    assert news.row["needs_agent"] == "no usable phone; no usable shipping address"
    assert news.row["customer"]["phone"] is None and news.row["address"] is None


@pytest.mark.parametrize("changes,field", [
    ({"order_number": None, "name": ""}, "order_number"), ({"created_at": "2026-11-28T10:30:00"}, "placed_at"),
    ({"total_price": None}, "amount"), ({"updated_at": "soon", "created_at": "soon"}, "updated_at"),
])
def test_shopify_malformed_orders_name_the_field(changes, field):
    with pytest.raises(InvalidInput) as caught:
        shopify.parse(shopify_order(**changes))
    assert field in caught.value.fields


def test_woocommerce_order_is_read_into_the_import_format():
    news = woocommerce.parse(woo_order())
    row = news.row
    assert (news.source, news.store_ref, news.cancelled) == ("woocommerce", "#727", False)
    assert (row["order_id"], row["customer"]["phone"], row["payment"]["method"]) == ("WC-727", "+919830012345", "cod")
    assert row["placed_at"] == datetime(2026, 11, 28, 5, 10, tzinfo=timezone.utc)
    assert row["items"] == [{"sku": "SAREE-HL", "name": "Handloom Saree", "qty": 1, "unit_price": 749.0}]
    paid = woocommerce.parse(woo_order(payment_method="razorpay", date_paid_gmt="2026-11-28T05:11:00"))
    assert paid.row["payment"]["status"] == "paid" and paid.row["status"] == "confirmed"
    assert woocommerce.parse(woo_order(status="cancelled")).cancelled


def test_woocommerce_phone_falls_back_to_the_shipping_phone():
    order = woo_order()
    order["billing"]["phone"] = ""
    order["shipping"]["phone"] = "9830099999"
    assert woocommerce.parse(order).row["customer"]["phone"] == "+919830099999"
