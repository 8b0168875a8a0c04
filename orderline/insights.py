"""Operations figures: is the assistant reducing load? Each table is one SQL statement.

The statements run unchanged on SQLite and PostgreSQL except `EPOCH(x)` (seconds since 1970 of
a timestamp column), which `render` turns into each dialect's spelling. Days are business days
(`Settings.timezone`, IST): the `days` CTE lists each day of the range with its UTC bounds, so
no statement converts time zones and empty days still appear. Definitions, and every statement
verbatim, are in docs/insights.md; tests/orderline/test_insights.py checks both against a seeded
dataset with known answers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Iterable, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, bindparam, text
from sqlalchemy.sql.elements import TextClause

from orderline.errors import InvalidInput
from orderline.models import OrderStatus as S, UTCDateTime
from orderline.notifications import EVENTS

DEFAULT_DAYS = 7
MAX_DAYS = 366
CONTAINMENT_WINDOW_S = 24 * 3600
# Intents that say nothing about why the customer came: a conversation's intent is its first other one.
GENERIC_INTENTS = ("greet", "goodbye", "affirm", "deny", "thank", "inform")
# "Where is my order?" contacts. The NLU files delays and late parcels under order_status too.
WISMO_INTENTS = ("order_status",)


# A scan meaning one of these means the courier has the parcel; the first one is the ship date.
SHIPPED_STATUSES = tuple(s.value for s in (S.SHIPPED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERY_FAILED,
                                           S.DELIVERED))


# -- the date range ------------------------------------------------------------------------
@dataclass(frozen=True)
class DateRange:
    """Whole business days, `first` to `last` inclusive, in time zone `tz`."""

    first: date
    last: date
    tz: ZoneInfo

    @property
    def starts(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=self.tz)

    @property
    def ends(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=self.tz)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def parse_range(first: Optional[str], last: Optional[str], today: date, tz: ZoneInfo) -> DateRange:
    """`from`/`to` as YYYY-MM-DD; missing ones default to the last 7 days up to today.

    Raises InvalidInput naming each bad field.
    """
    errors: dict[str, str] = {}
    end = _day(last, "to", errors) if last else today
    start = _day(first, "from", errors) if first else None
    if errors:
        raise InvalidInput(errors)
    assert end is not None
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise InvalidInput({"from": "must not be after the end date"})
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput({"to": f"the range may span at most {MAX_DAYS} days"})
    return DateRange(start, end, tz)


def _day(value: str, field: str, errors: dict[str, str]) -> Optional[date]:
    value = value.strip()
    try:
        day = date.fromisoformat(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None
    except ValueError:
        day = None
    if day is None:
        errors[field] = "a date as YYYY-MM-DD"
    elif not 2000 <= day.year <= 2100:
        errors[field] = "a date between 2000 and 2100"
        day = None
    return day


# -- the SQL ---------------------------------------------------------------------------------
# Shared common table expressions. `days` is generated: one VALUES row per day of the range,
# numbered from 0. A timestamp's day is found by arithmetic, then checked against the bounds:
# DAYNUM(x) is whole 24 h periods since :start, and with daylight saving the true day is at most
# one off, so `d.n = DAYNUM(x) + o.off` (off in -1, 0, 1) plus the bounds check finds it with an
# equality (hash) join instead of comparing every timestamp with every day.
DAYS = "days(n, day, starts, ends) AS (VALUES (0, :day_0, :start_0, :end_0), ...)"

CTES: dict[str, str] = {
    # A conversation: one customer's inbound messages on one channel on one business day.
    "contacts": """contacts AS (
    SELECT m.conversation_id, m.channel, d.day, d.ends, MIN(m.created_at) AS started_at
    FROM messages m
    CROSS JOIN (SELECT -1 AS off UNION ALL SELECT 0 UNION ALL SELECT 1) o
    JOIN days d ON d.n = DAYNUM(m.created_at) + o.off AND m.created_at >= d.starts AND m.created_at < d.ends
    WHERE m.direction = 'in' AND m.author = 'customer' AND m.channel IN ('whatsapp', 'voice')
      AND m.created_at >= :start AND m.created_at < :end
    GROUP BY m.conversation_id, m.channel, d.day, d.ends
)""",
    # Those the assistant answered (WhatsApp bot or IVR) after the customer's first message that
    # day, with the time of its last reply.
    "bot_contacts": """bot_contacts AS (
    SELECT c.conversation_id, c.channel, c.day, c.started_at, c.ends, MAX(o.created_at) AS last_bot_at
    FROM contacts c
    JOIN messages o ON o.conversation_id = c.conversation_id AND o.channel = c.channel
     AND o.created_at >= c.started_at AND o.created_at < c.ends
    WHERE o.direction = 'out' AND o.author IN ('bot', 'ivr')
      AND o.created_at >= :start AND o.created_at < :end
    GROUP BY c.conversation_id, c.channel, c.day, c.started_at, c.ends
)""",
    # Each answered conversation: its intent (the first inbound one that says why the customer
    # came), and whether it was escalated, contained or (its 24 h not over yet) still open.
    "outcomes": """outcomes AS (
    SELECT b.conversation_id, b.channel, b.day,
           COALESCE((SELECT i.intent FROM messages i
                     WHERE i.conversation_id = b.conversation_id AND i.channel = b.channel
                       AND i.direction = 'in' AND i.author = 'customer'
                       AND i.intent IS NOT NULL AND i.intent NOT IN :generic_intents
                       AND i.created_at >= b.started_at AND i.created_at < b.ends
                     ORDER BY i.created_at, i.id LIMIT 1), 'other') AS intent,
           CASE WHEN EXISTS (SELECT 1 FROM escalations e
                             WHERE e.conversation_id = b.conversation_id
                               AND e.created_at >= b.started_at
                               AND EPOCH(e.created_at) < EPOCH(b.last_bot_at) + :window_s)
                THEN 'escalated'
                WHEN EPOCH(:now) < EPOCH(b.last_bot_at) + :window_s THEN 'open'
                ELSE 'contained' END AS outcome
    FROM bot_contacts b
)""",
    "escalations_in_range": """esc AS (
    SELECT e.id, e.channel, e.reason, e.status, e.resolution,
           EPOCH(e.claimed_at) - EPOCH(e.created_at) AS claim_s,
           EPOCH(e.first_reply_at) - EPOCH(e.created_at) AS reply_s,
           EPOCH(e.resolved_at) - EPOCH(e.created_at) AS resolve_s
    FROM escalations e
    WHERE e.created_at >= :start AND e.created_at < :end
)""",
    # Orders shipped in the range: a shipment counts on the day of its first scan meaning the courier has it.
    "shipped": """shipped AS (
    SELECT ev.shipment_id, MIN(ev.at) AS shipped_at
    FROM shipment_events ev
    WHERE ev.order_status IN :shipped_statuses
    GROUP BY ev.shipment_id
    HAVING MIN(ev.at) >= :start AND MIN(ev.at) < :end
)""",
    # Order-status contacts: conversations (customer, channel, day) with a WISMO intent that day.
    "wismo": """wismo AS (
    SELECT DISTINCT m.conversation_id, m.channel, d.day
    FROM messages m
    CROSS JOIN (SELECT -1 AS off UNION ALL SELECT 0 UNION ALL SELECT 1) o
    JOIN days d ON d.n = DAYNUM(m.created_at) + o.off AND m.created_at >= d.starts AND m.created_at < d.ends
    WHERE m.direction = 'in' AND m.author = 'customer' AND m.intent IN :wismo_intents
      AND m.created_at >= :start AND m.created_at < :end
)""",
    # A day is "after" once the first proactive notification has been sent (on or before that day).
    "daily": """daily AS (
    SELECT d.day,
           CASE WHEN l.first_sent_at IS NOT NULL AND d.ends > l.first_sent_at
                THEN 'after' ELSE 'before' END AS phase,
           w.n AS wismo_contacts, s.n AS orders_shipped
    FROM days d
    JOIN (SELECT dw.day, COUNT(x.conversation_id) AS n
          FROM days dw LEFT JOIN wismo x ON x.day = dw.day
          GROUP BY dw.day) w ON w.day = d.day
    JOIN (SELECT ds.day, COUNT(y.shipment_id) AS n
          FROM days ds LEFT JOIN shipped y ON y.shipped_at >= ds.starts AND y.shipped_at < ds.ends
          GROUP BY ds.day) s ON s.day = d.day
    CROSS JOIN (SELECT MIN(n.sent_at) AS first_sent_at FROM notifications n
                WHERE n.sent_at IS NOT NULL) l
)""",
    "ndr_cohort": """cohort AS (
    SELECT f.shipment_id, f.attempts,
           CASE WHEN EXISTS (SELECT 1 FROM ndr_actions a
                             WHERE a.order_pk = s.order_pk AND a.created_at >= f.first_failed_at)
                THEN 'responded' ELSE 'no_response' END AS response,
           CASE WHEN EXISTS (SELECT 1 FROM shipment_events x
                             WHERE x.shipment_id = f.shipment_id AND x.at > f.first_failed_at
                               AND x.order_status = 'delivered') THEN 'delivered'
                WHEN EXISTS (SELECT 1 FROM shipment_events x
                             WHERE x.shipment_id = f.shipment_id AND x.at >= f.first_failed_at
                               AND x.order_status IN ('rto_initiated', 'rto_delivered')) THEN 'rto'
                ELSE 'pending' END AS outcome
    FROM (SELECT ev.shipment_id, MIN(ev.at) AS first_failed_at, COUNT(*) AS attempts
          FROM shipment_events ev
          WHERE ev.order_status = 'delivery_failed'
          GROUP BY ev.shipment_id) f
    JOIN shipments s ON s.id = f.shipment_id
    WHERE f.first_failed_at >= :start AND f.first_failed_at < :end
)""",
    "csat_answers": """answers AS (
    SELECT CAST(f.value AS INTEGER) AS score
    FROM order_feedback f
    WHERE f.kind = 'csat' AND f.value IN ('1', '2', '3', '4', '5')
      AND f.created_at >= :start AND f.created_at < :end
)""",
    "sends": """sends AS (
    SELECT n.event,
           CASE WHEN n.status IN ('sent', 'delivered', 'read') THEN 1 ELSE 0 END AS sent,
           CASE WHEN n.status IN ('delivered', 'read')
                  OR (n.status = 'sent' AND m.status IN ('delivered', 'read')) THEN 1 ELSE 0 END AS delivered,
           CASE WHEN n.status = 'read' OR m.status = 'read' THEN 1 ELSE 0 END AS was_read,
           CASE WHEN n.status = 'failed' OR m.status IN ('failed', 'undelivered') THEN 1 ELSE 0 END AS failed,
           CASE WHEN n.status = 'refused' THEN 1 ELSE 0 END AS refused,
           CASE WHEN n.status = 'skipped' THEN 1 ELSE 0 END AS skipped,
           CASE WHEN n.status IN ('pending', 'sending') THEN 1 ELSE 0 END AS pending
    FROM notifications n
    LEFT JOIN messages m ON m.id = n.message_id
    WHERE n.created_at >= :start AND n.created_at < :end
)""",
}

_CONTAINMENT = ("contacts", "bot_contacts", "outcomes")
_CHANNEL_ORDER = "CASE channel WHEN 'all' THEN 0 WHEN 'whatsapp' THEN 1 ELSE 2 END"
_EVENT_ROWS = "\n            UNION ALL ".join(f"SELECT '{event}' AS event, {i} AS pos"
                                               for i, event in enumerate(EVENTS, start=1))


def _outcome_counts(group: str) -> str:
    return f"""{group}, COUNT(*) AS conversations,
           COALESCE(SUM(CASE WHEN outcome = 'contained' THEN 1 ELSE 0 END), 0) AS contained,
           COALESCE(SUM(CASE WHEN outcome = 'escalated' THEN 1 ELSE 0 END), 0) AS escalated,
           COALESCE(SUM(CASE WHEN outcome = 'open' THEN 1 ELSE 0 END), 0) AS still_open"""


@dataclass(frozen=True)
class Figure:
    name: str
    title: str
    ctes: tuple[str, ...]  # names in CTES, after `days` when `per_day`
    select: str
    per_day: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return COLUMNS[self.name]


FIGURES: dict[str, Figure] = {f.name: f for f in (
    Figure("containment_channel", "Containment by channel", _CONTAINMENT, f"""
SELECT channel, conversations, contained, escalated, still_open,
       ROUND(100.0 * contained / NULLIF(contained + escalated, 0), 1) AS containment_pct
FROM (SELECT {_outcome_counts("'all' AS channel")}
      FROM outcomes
      UNION ALL
      SELECT {_outcome_counts("channel")}
      FROM outcomes GROUP BY channel) t
ORDER BY {_CHANNEL_ORDER}""", per_day=True),
    Figure("containment_intent", "Containment by intent", _CONTAINMENT, f"""
SELECT intent, conversations, contained, escalated, still_open,
       ROUND(100.0 * contained / NULLIF(contained + escalated, 0), 1) AS containment_pct
FROM (SELECT {_outcome_counts("intent")}
      FROM outcomes GROUP BY intent) t
ORDER BY conversations DESC, intent""", per_day=True),
    Figure("handoffs", "Handoffs by channel", _CONTAINMENT + ("escalations_in_range",), """
SELECT ch.channel, COALESCE(o.n, 0) AS conversations, COALESCE(e.n, 0) AS escalations,
       ROUND(100.0 * COALESCE(e.n, 0) / NULLIF(o.n, 0), 1) AS handoff_pct,
       COALESCE(e.resolved, 0) AS resolved, COALESCE(e.handed_back, 0) AS handed_back,
       COALESCE(e.active, 0) AS active
FROM (SELECT 'all' AS channel UNION ALL SELECT 'whatsapp' UNION ALL SELECT 'voice') ch
LEFT JOIN (SELECT channel, COUNT(*) AS n FROM outcomes GROUP BY channel
           UNION ALL
           SELECT 'all', COUNT(*) FROM outcomes) o ON o.channel = ch.channel
LEFT JOIN (SELECT channel, COUNT(*) AS n,
                  SUM(CASE WHEN resolution = 'resolved' THEN 1 ELSE 0 END) AS resolved,
                  SUM(CASE WHEN resolution = 'handed_back' THEN 1 ELSE 0 END) AS handed_back,
                  SUM(CASE WHEN status <> 'resolved' THEN 1 ELSE 0 END) AS active
           FROM (SELECT channel, status, resolution FROM esc
                 UNION ALL
                 SELECT 'all', status, resolution FROM esc) x
           GROUP BY channel) e ON e.channel = ch.channel
ORDER BY CASE ch.channel WHEN 'all' THEN 0 WHEN 'whatsapp' THEN 1 ELSE 2 END""", per_day=True),
    Figure("handoff_reasons", "Handoff reasons", ("escalations_in_range",), """
SELECT reason, escalations,
       ROUND(100.0 * escalations / NULLIF((SELECT COUNT(*) FROM esc), 0), 1) AS share_pct,
       whatsapp, voice
FROM (SELECT reason, COUNT(*) AS escalations,
             SUM(CASE WHEN channel = 'whatsapp' THEN 1 ELSE 0 END) AS whatsapp,
             SUM(CASE WHEN channel = 'voice' THEN 1 ELSE 0 END) AS voice
      FROM esc GROUP BY reason) t
ORDER BY escalations DESC, reason"""),
    Figure("handoff_times", "Time to claim, first agent reply and resolution", ("escalations_in_range",), f"""
, samples AS (
    SELECT 'claim' AS measure, 1 AS pos, channel, claim_s AS s FROM esc WHERE claim_s IS NOT NULL
    UNION ALL
    SELECT 'first_agent_reply', 2, channel, reply_s FROM esc WHERE reply_s IS NOT NULL
    UNION ALL
    SELECT 'resolution', 3, channel, resolve_s FROM esc WHERE resolve_s IS NOT NULL
), ranked AS (
    SELECT measure, pos, channel, s,
           ROW_NUMBER() OVER (PARTITION BY measure, channel ORDER BY s) AS rn,
           COUNT(*) OVER (PARTITION BY measure, channel) AS n
    FROM (SELECT measure, pos, channel, s FROM samples
          UNION ALL
          SELECT measure, pos, 'all', s FROM samples) g
)
SELECT measure, channel, MAX(n) AS n,
       ROUND(AVG(s) / 60.0, 1) AS avg_minutes,
       ROUND(AVG(CASE WHEN rn IN ((n + 1) / 2, (n + 2) / 2) THEN s END) / 60.0, 1) AS median_minutes,
       ROUND(MAX(s) / 60.0, 1) AS max_minutes
FROM ranked
GROUP BY measure, pos, channel
ORDER BY pos, {_CHANNEL_ORDER}"""),
    Figure("wismo_daily", "Order-status contacts per 100 orders shipped, by day", ("shipped", "wismo", "daily"), """
SELECT day, phase, wismo_contacts, orders_shipped,
       ROUND(100.0 * wismo_contacts / NULLIF(orders_shipped, 0), 1) AS per_100_shipped
FROM daily
ORDER BY day""", per_day=True),
    Figure("wismo_phases", "Order-status contacts before and after proactive messages",
           ("shipped", "wismo", "daily"), """
SELECT p.phase, COUNT(d.day) AS days,
       COALESCE(SUM(d.wismo_contacts), 0) AS wismo_contacts,
       COALESCE(SUM(d.orders_shipped), 0) AS orders_shipped,
       ROUND(100.0 * SUM(d.wismo_contacts) / NULLIF(SUM(d.orders_shipped), 0), 1) AS per_100_shipped,
       MIN(d.day) AS first_day, MAX(d.day) AS last_day
FROM (SELECT 'before' AS phase, 1 AS pos UNION ALL SELECT 'after', 2) p
LEFT JOIN daily d ON d.phase = p.phase
GROUP BY p.phase, p.pos
ORDER BY p.pos""", per_day=True),
    Figure("ndr", "Failed deliveries (NDR) and what happened next", ("ndr_cohort",), """
SELECT response, orders, failed_attempts, delivered, returned_to_origin, pending,
       ROUND(100.0 * delivered / NULLIF(orders, 0), 1) AS delivered_pct
FROM (SELECT g.response, g.pos, COUNT(c.shipment_id) AS orders,
             COALESCE(SUM(c.attempts), 0) AS failed_attempts,
             COALESCE(SUM(CASE WHEN c.outcome = 'delivered' THEN 1 ELSE 0 END), 0) AS delivered,
             COALESCE(SUM(CASE WHEN c.outcome = 'rto' THEN 1 ELSE 0 END), 0) AS returned_to_origin,
             COALESCE(SUM(CASE WHEN c.outcome = 'pending' THEN 1 ELSE 0 END), 0) AS pending
      FROM (SELECT 'all' AS response, 0 AS pos
            UNION ALL SELECT 'responded', 1
            UNION ALL SELECT 'no_response', 2) g
      LEFT JOIN cohort c ON g.response IN ('all', c.response)
      GROUP BY g.response, g.pos) t
ORDER BY pos"""),
    Figure("csat", "CSAT answers by score", ("csat_answers",), """
SELECT s.score, COUNT(a.score) AS responses,
       ROUND(100.0 * COUNT(a.score) / NULLIF((SELECT COUNT(*) FROM answers), 0), 1) AS share_pct
FROM (SELECT 5 AS score UNION ALL SELECT 4 UNION ALL SELECT 3 UNION ALL SELECT 2 UNION ALL SELECT 1) s
LEFT JOIN answers a ON a.score = s.score
GROUP BY s.score
ORDER BY s.score DESC"""),
    Figure("csat_summary", "CSAT average", ("csat_answers",), """
SELECT COUNT(*) AS responses,
       ROUND(AVG(score * 1.0), 2) AS average,
       ROUND(100.0 * SUM(CASE WHEN score >= 4 THEN 1 ELSE 0 END) / NULLIF(COUNT(*), 0), 1) AS satisfied_pct
FROM answers"""),
    Figure("notifications", "Proactive notifications by type", ("sends",), f"""
SELECT event, total, sent, delivered, was_read, failed, refused, skipped, pending,
       ROUND(100.0 * delivered / NULLIF(sent, 0), 1) AS delivered_pct
FROM (SELECT 'all' AS event, 0 AS pos, COUNT(*) AS total,
             COALESCE(SUM(sent), 0) AS sent, COALESCE(SUM(delivered), 0) AS delivered,
             COALESCE(SUM(was_read), 0) AS was_read, COALESCE(SUM(failed), 0) AS failed,
             COALESCE(SUM(refused), 0) AS refused, COALESCE(SUM(skipped), 0) AS skipped,
             COALESCE(SUM(pending), 0) AS pending
      FROM sends
      UNION ALL
      SELECT ev.event, ev.pos, COUNT(x.event),
             COALESCE(SUM(x.sent), 0), COALESCE(SUM(x.delivered), 0), COALESCE(SUM(x.was_read), 0),
             COALESCE(SUM(x.failed), 0), COALESCE(SUM(x.refused), 0), COALESCE(SUM(x.skipped), 0),
             COALESCE(SUM(x.pending), 0)
      FROM ({_EVENT_ROWS}) ev
      LEFT JOIN sends x ON x.event = ev.event
      GROUP BY ev.event, ev.pos) t
ORDER BY pos"""),
)}

COLUMNS: dict[str, tuple[str, ...]] = {
    "containment_channel": ("channel", "conversations", "contained", "escalated", "still_open", "containment_pct"),
    "containment_intent": ("intent", "conversations", "contained", "escalated", "still_open", "containment_pct"),
    "handoffs": ("channel", "conversations", "escalations", "handoff_pct", "resolved", "handed_back", "active"),
    "handoff_reasons": ("reason", "escalations", "share_pct", "whatsapp", "voice"),
    "handoff_times": ("measure", "channel", "n", "avg_minutes", "median_minutes", "max_minutes"),
    "wismo_daily": ("day", "phase", "wismo_contacts", "orders_shipped", "per_100_shipped"),
    "wismo_phases": ("phase", "days", "wismo_contacts", "orders_shipped", "per_100_shipped", "first_day", "last_day"),
    "ndr": ("response", "orders", "failed_attempts", "delivered", "returned_to_origin", "pending", "delivered_pct"),
    "csat": ("score", "responses", "share_pct"),
    "csat_summary": ("responses", "average", "satisfied_pct"),
    "notifications": ("event", "total", "sent", "delivered", "was_read", "failed", "refused", "skipped", "pending",
                      "delivered_pct"),
}
_EPOCH = re.compile(r"EPOCH\(([:\w.]+)\)")
_DAYNUM = re.compile(r"DAYNUM\(([:\w.]+)\)")
_DATETIME_PARAMS = {"start", "end", "now"}
_LIST_PARAMS = {"generic_intents": GENERIC_INTENTS, "wismo_intents": WISMO_INTENTS,
                "shipped_statuses": SHIPPED_STATUSES}


def statement_text(figure: Figure) -> str:
    """The statement as documented: `days` abbreviated, `EPOCH(x)` and `DAYNUM(x)` not yet rendered."""
    ctes = ([DAYS] if figure.per_day else []) + [CTES[name] for name in figure.ctes]
    select = figure.select.strip()
    if select.startswith(","):  # the figure adds CTEs of its own
        return "WITH " + ",\n".join(ctes) + select
    return "WITH " + ",\n".join(ctes) + "\n" + select


def epoch(dialect: str, expr: str) -> str:
    """Seconds since 1970 of a timestamp, in the dialect's words (SQLite stores UTC text)."""
    if dialect == "postgresql":
        return f"EXTRACT(EPOCH FROM {expr})"
    if dialect == "sqlite":
        return f"((julianday({expr}) - 2440587.5) * 86400.0)"
    raise ValueError(f"no EPOCH() for {dialect}")


def daynum(dialect: str, expr: str) -> str:
    """Whole 24-hour periods from :start to a timestamp at or after it (a day's `n`, give or take
    one across a daylight-saving change)."""
    if dialect == "postgresql":
        return f"FLOOR(EXTRACT(EPOCH FROM ({expr} - :start)) / 86400)"
    if dialect == "sqlite":
        return f"CAST(julianday({expr}) - julianday(:start) AS INTEGER)"
    raise ValueError(f"no DAYNUM() for {dialect}")


def render(figure: Figure, rng: DateRange, now: datetime, dialect: str) -> tuple[TextClause, dict[str, Any]]:
    """The executable statement and its parameters for one figure."""
    sql = statement_text(figure)
    params: dict[str, Any] = {"start": rng.starts, "end": rng.ends, "now": now, "window_s": CONTAINMENT_WINDOW_S}
    typed = set(_DATETIME_PARAMS)
    if figure.per_day:
        rows = []
        for i, day in enumerate(rng.days()):
            rows.append(f"({i}, :day_{i}, :start_{i}, :end_{i})")
            params[f"day_{i}"] = day.isoformat()
            params[f"start_{i}"] = datetime.combine(day, time(0), tzinfo=rng.tz)
            params[f"end_{i}"] = datetime.combine(day + timedelta(days=1), time(0), tzinfo=rng.tz)
            typed |= {f"start_{i}", f"end_{i}"}
        sql = sql.replace(DAYS, DAYS.split("(VALUES")[0] + "(VALUES " + ", ".join(rows) + ")")
    sql = _DAYNUM.sub(lambda m: daynum(dialect, m.group(1)), sql)
    sql = _EPOCH.sub(lambda m: epoch(dialect, m.group(1)), sql)
    params.update(_LIST_PARAMS)
    used = set(re.findall(r"(?<![:\w]):(\w+)", sql))
    binds = [bindparam(name, type_=UTCDateTime()) for name in sorted(typed & used)]
    binds += [bindparam(name, expanding=True) for name in sorted(set(_LIST_PARAMS) & used)]
    return text(sql).bindparams(*binds), {k: v for k, v in params.items() if k in used}


# -- running -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]


def run(conn: Connection, name: str, rng: DateRange, now: datetime) -> Table:
    """One figure as a table of plain values (int, float, str, None)."""
    figure = FIGURES[name]
    stmt, params = render(figure, rng, now, conn.dialect.name)
    result = conn.execute(stmt, params)
    rows = [{col: _plain(row._mapping[col]) for col in figure.columns} for row in result]
    return Table(figure.name, figure.title, figure.columns, rows)


def report(engine: Engine, rng: DateRange, now: datetime, names: Optional[Iterable[str]] = None) -> dict[str, Table]:
    """Every figure (or those named) over one connection."""
    with engine.connect() as conn:
        return {name: run(conn, name, rng, now) for name in (names or FIGURES)}


def _plain(value: Any) -> Any:
    """PostgreSQL answers ROUND(numeric) as Decimal, SQLite as float: make them the same."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    return value
