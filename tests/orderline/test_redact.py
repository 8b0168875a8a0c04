import pytest

from edge.text import MAX_TEXT, customer_text
from orderline.redact import redact


@pytest.mark.parametrize("text,secret", [
    ("my card 4111 1111 1111 1111 cvv 123", "4111"),
    ("card no 4111111111111111", "4111111111111111"),
    ("debit card 1234-5678-9012-3456", "9012"),
    ("CVV: 987", "987"),
    ("otp is 482913", "482913"),
    ("OTP 4821 aaya hai", "4821"),
    ("482913 is my otp", "482913"),
    ("mera upi pin 2580 hai", "2580"),
])
def test_secrets_are_redacted(text, secret):
    out = redact(text)
    assert secret not in out and "redacted" in out


@pytest.mark.parametrize("text", [
    "where is order OL-100234", "pincode 452001", "call me on +919812345678", "awb 19041424751540",
    "deliver on 29/11 morning", "order no 100234 ka status",
])
def test_useful_numbers_survive(text):
    assert redact(text) == text


@pytest.mark.parametrize("text,secret", [
    ("card 4111.1111.1111.1111", "4111.1111"),
    ("4111/1111/1111/1111 is the card", "4111/1111"),
    ("my card\n4111\n1111\n1111\n1111", "1111\n1111"),
    ("4111 \t1111\r\n1111  1111", "1111"),
    ("card no. 4012 8888 8888 1881 exp 12/27", "8888"),
    ("4012888888881881", "4012888888881881"),  # no words around it: the Luhn check decides
    ("cvv number is 123", "123"),
    ("my cvv no. 123", "123"),
    ("CVC:\n456", "456"),
    ("otp 1 2 3 4 5 6", "1 2 3 4 5 6"),
    ("OTP is 12 34 56", "12 34 56"),
    ("otp 482-913", "482-913"),
    ("1 2 3 4 5 6 is my otp", "1 2 3 4 5 6"),
])
def test_widened_patterns_are_redacted(text, secret):
    out = redact(text)
    assert secret not in out and "redacted" in out


@pytest.mark.parametrize("text", [
    "call me on +91 98123 45678", "pincode 452 001", "orders OL-100234 and OL-100235", "deliver 29/11/2026 please",
    "awb 1904 1424 7515 40", "my number 98123 45678, order 100234", "flat 12/3, 4th cross, 560001",
    "orders 100234 100235 100236", "mera pin code 452001 hai", "delivery by 5 pm on 1.12.2026",
])
def test_useful_numbers_written_in_other_ways_survive(text):
    assert redact(text) == text


@pytest.mark.parametrize("text", ["card 4111.1111.1111.1111 cvv number is 123", "otp 1 2 3 4 5 6",
                                  "where is order OL-100234"])
def test_redacting_twice_changes_nothing(text):
    """The front door redacts, and the stores redact again what staff and the bot write."""
    assert redact(redact(text)) == redact(text)


def test_the_front_door_never_cuts_a_card_in_half():
    """The length limit is applied after redaction, so no tail of a card survives the cut."""
    text = "x" * 3990 + " 4111 1111 1111 1111"
    out = customer_text(text)
    assert len(out) <= MAX_TEXT and "1111" not in out and "4111" not in out
    assert customer_text("  card 4111.1111.1111.1111\x00  ", 200) == "card [card redacted]"
