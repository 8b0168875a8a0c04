"""Turning what customers say about dates into real dates in Asia/Kolkata.

Customers mix English and Hinglish ("kal", "parson", "Saturday", "25th",
"next Monday"). Requests to the assistant look forward, so "kal" means
tomorrow, and a bare weekday or day of month means the next one to come.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

import dateparser

IST = ZoneInfo("Asia/Kolkata")

_RELATIVE = {
    "today": 0, "aaj": 0, "aj": 0, "tonight": 0,
    "tomorrow": 1, "tmrw": 1, "tmr": 1, "tomoro": 1, "kal": 1, "kl": 1,
    "आज": 0, "कल": 1, "परसों": 2,
    "day after tomorrow": 2, "parson": 2, "parso": 2, "parsoon": 2, "parsho": 2,
}
_WEEKDAYS = {
    "monday": 0, "mon": 0, "somvar": 0, "somwar": 0,
    "tuesday": 1, "tue": 1, "tues": 1, "mangalvar": 1, "mangalwar": 1,
    "wednesday": 2, "wed": 2, "budhvar": 2, "budhwar": 2,
    "thursday": 3, "thu": 3, "thurs": 3, "guruvar": 3, "guruwar": 3,
    "friday": 4, "fri": 4, "shukravar": 4, "shukrawar": 4,
    "saturday": 5, "sat": 5, "shanivar": 5, "shaniwar": 5,
    "sunday": 6, "sun": 6, "ravivar": 6, "raviwar": 6, "itvaar": 6, "itwar": 6,
}
_DAY_OF_MONTH = re.compile(r"^(\d{1,2})\s*(st|nd|rd|th)?$")


def today_ist(now: Optional[datetime] = None) -> date:
    """Today's date in India."""
    return (now or datetime.now(IST)).astimezone(IST).date()


def _words(text: Optional[str]) -> str:
    words = re.sub(r"[^\w\s/\-\u0900-\u097F]", " ", str(text or "").lower())
    return re.sub(r"\s+", " ", words).strip()


def date_in_sentence(text: Optional[str], today: Optional[date] = None) -> Optional[date]:
    """A relative day or weekday named anywhere in a sentence ("deliver it day after
    tomorrow"), or None. Deterministic: no free-form parsing of whole sentences."""
    words = _words(text)
    if not words:
        return None
    return _relative_or_weekday(words, today or today_ist())


def parse_date(text: Optional[str], today: Optional[date] = None) -> Optional[date]:
    """Resolves a customer's words to a date on or after today, or None.

    Args:
        text: What the customer said, e.g. "kal", "next Monday", "25th".
        today: Reference day in IST; defaults to now.
    """
    today = today or today_ist()
    words = _words(text)
    if not words:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", words):
        try:
            return date.fromisoformat(words)
        except ValueError:
            return None
    found = _relative_or_weekday(words, today)
    if found:
        return found
    return _absolute(words, today)


def _relative_or_weekday(words: str, today: date) -> Optional[date]:
    tokens = words.split()
    for phrase in sorted(_RELATIVE, key=len, reverse=True):
        if (phrase in words) if " " in phrase else (phrase in tokens):
            return today + timedelta(days=_RELATIVE[phrase])

    for token in words.split():
        if token in _WEEKDAYS:
            ahead = (_WEEKDAYS[token] - today.weekday()) % 7 or 7
            if re.search(r"\b(next|agle|agla) (week|hafte)\b", words) and ahead < 7:
                ahead += 7
            return today + timedelta(days=ahead)
    return None


def _absolute(words: str, today: date) -> Optional[date]:
    m = _DAY_OF_MONTH.match(words)
    if m:
        return _next_day_of_month(int(m.group(1)), today)

    base = datetime.combine(today, datetime.min.time())
    parsed = dateparser.parse(
        words,
        languages=["en", "hi"],
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": base,
            "DATE_ORDER": "DMY",
            "PREFER_DAY_OF_MONTH": "first",
        },
    )
    if parsed is None:
        return None
    return parsed.date()


def _next_day_of_month(day: int, today: date) -> Optional[date]:
    year, month = today.year, today.month
    for _ in range(3):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate and candidate >= today:
            return candidate
        month += 1
        if month > 12:
            month, year = 1, year + 1
    return None


def friendly_date(value: Optional[str | date], style: str = "en", today: Optional[date] = None) -> str:
    """'tomorrow, Sat 29 Nov' style wording for a date; '' when unknown."""
    if not value:
        return ""
    day = value if isinstance(value, date) else _as_date(value)
    if day is None:
        return str(value)
    today = today or today_ist()
    label = day.strftime("%a %d %b").replace(" 0", " ")
    delta = (day - today).days
    near = {
        "en": {0: "today", 1: "tomorrow", -1: "yesterday"},
        "hinglish": {0: "aaj", 1: "kal"},
    }.get(style, {})
    if delta in near:
        return f"{near[delta]}, {label}"
    return label


def _as_date(value: str) -> Optional[date]:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


# --- Phrasing an expected date: the one rule every reply that states a date follows. ---
# A date still ahead is a promise ("should reach you by ..."); a date already gone is
# never phrased as one: it becomes "should have reached you by ..." with what happens next.
# Out for delivery means today, whatever the promised date says.

_EXPECTED = {
    "en": {
        "delivery_today": "The courier should bring it today.",
        "delivery_ahead": "It should reach you by {day}.",
        "delivery_late_ahead": "We promised {promised}; it should now reach you by {day}.",
        "delivery_overdue": "It was due by {day}, so it's running late. We're checking with the courier.",
        "delivery_unknown": "We'll share a delivery date as soon as the courier gives one.",
        "refund_ahead": "It should reach your account by {day}.",
        "refund_overdue": "It should have reached your account by {day}. If you don't see it, banks can take "
                          "up to 5 working days after that; want me to get someone to check?",
        "refund_unknown": "We'll tell you as soon as the bank confirms it.",
        "refund_done": "It has been credited to your account.",
    },
    "hinglish": {
        "delivery_today": "Courier aaj hi le aayega.",
        "delivery_ahead": "Yeh {day} tak pahunch jayega.",
        "delivery_late_ahead": "Humne {promised} bola tha; ab yeh {day} tak pahunch jayega.",
        "delivery_overdue": "Yeh {day} tak aana tha, isliye late ho gaya hai. Hum courier se pata kar rahe hain.",
        "delivery_unknown": "Courier se date milte hi hum aapko bata denge.",
        "refund_ahead": "Yeh {day} tak aapke account mein aa jana chahiye.",
        "refund_overdue": "Yeh {day} tak aapke account mein aa jana chahiye tha. Agar nahi dikha, toh bank uske "
                          "baad 5 working din tak le sakta hai; kya main kisi se check karwaoon?",
        "refund_unknown": "Bank se confirm hote hi hum aapko bata denge.",
        "refund_done": "Yeh aapke account mein credit ho chuka hai.",
    },
}


@dataclass(frozen=True)
class ExpectedDate:
    """A sentence about when something should happen, and whether that day has passed.

    `overdue` tells the caller the sentence asked the customer whether to get someone
    to check (refunds) or said it is late (deliveries).
    """

    sentence: str
    overdue: bool


def expected_date(
    kind: str,
    status: str,
    due: Optional[str | date],
    style: str = "en",
    today: Optional[date] = None,
    promised: Optional[str | date] = None,
) -> ExpectedDate:
    """Phrases the date a delivery or refund is expected, relative to today and the status.

    Args:
        kind: "delivery" or "refund".
        status: The order status (delivery) or the refund status (refund).
        due: The date it is expected by now (for a delivery: rescheduled, else expected, else promised).
        style: "en" or "hinglish".
        today: Reference day in IST; defaults to now.
        promised: The originally promised delivery date, to say a delivery is late.
    """
    today = today or today_ist()
    words = _EXPECTED.get(style, _EXPECTED["en"])
    day = due if isinstance(due, date) else _as_date(due) if due else None
    was = promised if isinstance(promised, date) else _as_date(promised) if promised else None

    def say(key: str, overdue: bool = False, **dates: date) -> ExpectedDate:
        shown = {k: friendly_date(v, style, today) for k, v in dates.items()}
        return ExpectedDate(words[key].format(**shown), overdue)

    if kind == "refund":
        if status == "completed":
            return say("refund_done")
        if day is None or status == "failed":
            return say("refund_unknown")
        return say("refund_overdue", True, day=day) if day < today else say("refund_ahead", day=day)
    if status == "out_for_delivery":
        return say("delivery_today")
    if day is None:
        return say("delivery_overdue", True, day=was) if was and was < today else say("delivery_unknown")
    if day < today:
        return say("delivery_overdue", True, day=day)
    if day == today:
        return say("delivery_today")
    if was and was < day:
        return say("delivery_late_ahead", was < today, day=day, promised=was)
    return say("delivery_ahead", day=day)
