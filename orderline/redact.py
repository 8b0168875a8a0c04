"""Redact payment secrets before anything is stored: card numbers, CVVs and OTP-like codes.

Order ids, pincodes and phone numbers are left alone; the transcript must stay useful.
"""
from __future__ import annotations

import re

CARD_RE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
CVV_RE = re.compile(r"\b(cvv2?|cvc2?|cv2|security code)\b(\W{0,3}(?:is|:|=|-)?\W{0,3})(\d{3,4})\b", re.I)
OTP_RE = re.compile(
    r"\b(otp|one[ -]?time[ -]?pass(?:word|code)?|verification code|auth(?:entication)? code|upi pin|"
    r"m?pin|password|passcode)\b([^\d\n]{0,20}?)(\d{4,8})\b", re.I)
OTP_AFTER_RE = re.compile(r"\b(\d{4,8})\b(\s+(?:is\s+)?(?:my\s+|the\s+)?(?:otp|one[ -]?time password))\b", re.I)


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
    grouped = bool(re.fullmatch(r"\d{4}([ -])\d{4}\1\d{4}\1\d{3,4}", raw))
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
