"""Redact payment secrets before anything is stored: card numbers, CVVs and OTP-like codes.

Order ids, pincodes and phone numbers are left alone; the transcript must stay useful.
Customer text is redacted once, at the front door (`edge.text.customer_text`), before the
assistant, the transcript, escalations, CSAT comments or NDR words see it; the stores call
`redact` again on what staff and the bot write, which changes nothing already redacted.
"""
from __future__ import annotations

import re

# Between the digits of a card: nothing, or up to three spaces, newlines, dots, slashes or dashes.
SEP = r"[\s./\\-]{0,3}"
CARD_RE = re.compile(rf"(?<!\d)(?:\d{SEP}){{12,18}}\d(?!\d)")
GROUPED_RE = re.compile(r"\d{4}(?:[\s./\\-]{1,3}\d{4}){2}[\s./\\-]{1,3}\d{3,4}")
CVV_RE = re.compile(r"\b(cvv2?|cvc2?|cv2|card verification (?:value|code)|security code)\b([^\d]{0,20}?)(\d{3,4})\b",
                    re.I)
# A code spoken or typed digit by digit ("1 2 3 4 5 6", "12 34 56") is as secret as "123456".
CODE = r"\d(?:[ .-]?\d){3,7}"
OTP_RE = re.compile(
    r"\b(otp|one[ -]?time[ -]?pass(?:word|code)?|verification code|auth(?:entication)? code|upi pin|"
    rf"m?pin(?![\s-]*codes?\b)|password|passcode)\b([^\d\n]{{0,20}}?)({CODE})\b", re.I)  # "pin code" is an address
OTP_AFTER_RE = re.compile(rf"(?<![\d.-])\b({CODE})\b(\s+(?:is\s+)?(?:my\s+|the\s+)?(?:otp|one[ -]?time password))\b",
                          re.I)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


CARD_WORD_RE = re.compile(r"(card|debit|credit|visa|master|rupay|amex)\W*(no\.?|number|num)?\W*$", re.I)


def _card(match: re.Match[str]) -> str:
    raw = match.group(0)
    digits = re.sub(r"\D", "", raw)
    grouped = bool(GROUPED_RE.fullmatch(raw))
    named = bool(CARD_WORD_RE.search(match.string[max(0, match.start() - 25):match.start()]))
    if 13 <= len(digits) <= 19 and (luhn_ok(digits) or grouped or named):
        return "[card redacted]"
    return raw


def redact(text: str) -> str:
    """Return `text` with card numbers, CVVs and one-time codes replaced by markers."""
    if not text:
        return text
    text = CARD_RE.sub(_card, text)
    text = CVV_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
    text = OTP_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
    text = OTP_AFTER_RE.sub(lambda m: f"[redacted]{m.group(2)}", text)
    return text
