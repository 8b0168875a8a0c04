import pytest

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
