"""Order facts and assistant replies as text a phone voice can read aloud.

No links, no emoji, no markdown; order ids and other long numbers digit by digit
("OL-100234" is read "O L 1 0 0 2 3 4"); money as "1299 rupees".
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any, Optional

from ivr.prompts import MONTHS, NEAR_DAYS, PAYMENT_WORDS, REFUND_WORDS, STATUS_WORDS, WEEKDAYS, lang_of, s, t

URL_RE = re.compile(r"(?i)\b(?:https?://|www\.)\S+")
ORDER_ID_RE = re.compile(r"(?i)\b(ol)[\s-]*(\d{4,12})\b")
LONG_NUMBER_RE = re.compile(r"(?<![\d.,])\d{6,}(?![\d.,]*\d)")
RUPEES_RE = re.compile(r"(?:₹|\bRs\.?|\bINR)\s*([\d,]+(?:\.\d{1,2})?)")
MARKUP_RE = re.compile(r"[*_~`>#|\[\]{}<]")


def spell_out(text: str) -> str:
    """'OL-100234' -> 'O L 1 0 0 2 3 4'."""
    return " ".join(ch for ch in text.upper() if ch.isalnum())


def money(amount: float, lang: str) -> str:
    whole = round(amount)
    value = str(whole) if abs(amount - whole) < 0.005 else f"{amount:.2f}"
    return s(lang, "rupees", amount=value)


def say_date(day: Optional[date | str], today: date, lang: str) -> str:
    """'tomorrow, Sunday 29 November', or 'Tuesday 1 December' further out."""
    if not day:
        return ""
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day[:10])
        except ValueError:
            return ""
    lang = lang_of(lang)
    label = f"{WEEKDAYS[lang][day.weekday()]} {day.day} {MONTHS[lang][day.month - 1]}"
    near = NEAR_DAYS[lang].get((day - today).days)
    return f"{near}, {label}" if near else label


def speakable(text: str) -> str:
    """Make an assistant reply fit for text-to-speech."""
    text = URL_RE.sub("", text or "")
    text = RUPEES_RE.sub(lambda m: m.group(1).replace(",", "") + " rupees", text)
    text = ORDER_ID_RE.sub(lambda m: spell_out(m.group(1) + m.group(2)), text)
    text = LONG_NUMBER_RE.sub(lambda m: spell_out(m.group(0)), text)
    text = "".join(ch for ch in text if _speakable_char(ch))
    text = MARKUP_RE.sub(" ", text)
    text = re.sub(r"\s*[\r\n]+\s*", ". ", text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"(\s*[.:;,]\s*){2,}", ". ", text)
    text = re.sub(r"\s+([.,;:!?।])", r"\1", text)
    return text.strip(" .:-") + ("." if text.strip(" .:-") and not text.strip().endswith(("?", "!", "।", ".")) else "")


def _speakable_char(ch: str) -> bool:
    if ch in "\n\r":
        return True
    cat = unicodedata.category(ch)
    if cat in ("So", "Sk", "Cs", "Co", "Cn") or cat == "Cf":
        return False  # emoji, pictographs, joiners and variation selectors
    return ch != "•" or False


def order_ref(order_id: str) -> str:
    return spell_out(order_id)


def status_sentence(order: dict[str, Any], today: date, lang: str, with_options: bool = True,
                    own: bool = False) -> str:
    """The chat's status facts in one or two spoken sentences."""
    lang = lang_of(lang)
    ref = order_ref(order["order_id"])
    status = order["status"]
    words = STATUS_WORDS[lang].get(status, status.replace("_", " "))
    ship = order.get("shipment") or None
    courier = (ship or {}).get("courier") or s(lang, "courier")
    if status == "delivery_failed":
        reason = speakable((ship or {}).get("ndr_reason") or "") or s(lang, "reason_unknown")
        text = s(lang, "status_failed", ref=ref, reason=reason.rstrip("."))
        return f"{text} {t(lang, 'failed_options')}" if with_options else text
    if status == "delivered":
        day = say_date((ship or {}).get("delivered_at"), today, lang)
        return s(lang, "status_delivered", ref=ref, day=day) if day else s(lang, "status_plain", ref=ref, words=words)
    if ship is None or status in ("placed", "confirmed", "packed", "cancelled", "rto_initiated", "rto_delivered",
                                  "lost", "damaged"):
        return s(lang, "status_plain", ref=ref, words=words)
    day = say_date(ship.get("rescheduled_for") or ship.get("expected_date") or ship.get("promised_date"), today, lang)
    if not day:
        return s(lang, "status_plain", ref=ref, words=words)
    if ship.get("rescheduled_for"):
        return s(lang, "status_rescheduled", ref=ref, words=words, courier=courier, day=day)
    if ship.get("is_delayed") and ship.get("promised_date"):
        promised = say_date(ship["promised_date"], today, lang)
        return s(lang, "status_delayed", ref=ref, promised=promised, courier=courier, day=day)
    return s(lang, "status_moving", ref=ref, words=words, courier=courier, day=day)


def payment_sentences(order: dict[str, Any], today: date, lang: str) -> str:
    """COD amount due, payment status, refund status and expected date."""
    lang = lang_of(lang)
    pay = order.get("payment") or {}
    amount = money(float(order.get("amount") or 0), lang)
    parts: list[str] = []
    if pay.get("method") == "cod":
        if pay.get("status") == "paid":
            parts.append(s(lang, "cod_paid", amount=amount))
        elif order["status"] not in ("cancelled", "rto_initiated", "rto_delivered", "lost", "damaged"):
            parts.append(s(lang, "cod_due", amount=amount))
    elif pay:
        words = PAYMENT_WORDS[lang].get(pay.get("status") or "", str(pay.get("status") or "").replace("_", " "))
        parts.append(s(lang, "prepaid", amount=amount, status=words))
    refund = pay.get("refund")
    if refund:
        r_amount = money(float(refund.get("amount") or order.get("amount") or 0), lang)
        r_words = REFUND_WORDS[lang].get(refund.get("status") or "", str(refund.get("status") or ""))
        parts.append(s(lang, "refund", amount=r_amount, words=r_words))
        by = say_date(refund.get("expected_by"), today, lang)
        if by and refund.get("status") not in ("completed", "failed"):
            parts.append(s(lang, "refund_by", day=by))
    elif pay.get("method") != "cod" or order["status"] == "cancelled":
        parts.append(s(lang, "no_refund"))
    prefix = order_ref(order["order_id"])
    return f"{prefix}. " + " ".join(parts)
