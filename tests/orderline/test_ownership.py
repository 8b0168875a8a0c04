"""Proof of owning an order named from another phone: the phone's last 4 digits or the pincode."""
import pytest

from orderline.errors import InvalidInput
from orderline.ownership import MAX_PROOFS, proofs_from, proves_ownership


@pytest.fixture
def order(services, demo):
    return services.orders.get(next(iter(demo)))


def test_last_four_digits_or_pincode_prove_it(order):
    last4, pincode = order.customer.phone[-4:], order.address.pincode
    assert proves_ownership(order, [last4]) and proves_ownership(order, [pincode])
    assert proves_ownership(order, ["1111", "2222", pincode])  # any one of several numbers in a message


def test_anything_else_does_not(order):
    last4, pincode = order.customer.phone[-4:], order.address.pincode
    wrong4 = "0000" if last4 != "0000" else "1111"
    assert not proves_ownership(order, [])
    assert not proves_ownership(order, [wrong4, "999999" if pincode != "999999" else "111111"])
    assert not proves_ownership(order, [pincode[:4]])  # 4 digits are compared with the phone only
    assert not proves_ownership(order, [last4 + "00", order.customer.phone[-5:], order.customer.phone])
    assert not proves_ownership(order, ["०००१", "४५२००१", ""])  # Devanagari digits: no match, no crash


def test_proofs_from_an_api_body():
    assert proofs_from({"proofs": ["0001", "560034"]}) == ["0001", "560034"]
    assert proofs_from({"proofs": []}) == []
    for bad in ({}, {"proofs": "0001"}, {"proofs": [1]}, {"proofs": ["x" * 21]},
                {"proofs": ["1"] * (MAX_PROOFS + 1)}, ["0001"]):
        with pytest.raises(InvalidInput):
            proofs_from(bad)
