"""The operations dashboard (`/agent/insights`) and its CSV exports, for signed-in agents.

The figures come from `orderline.insights`; this module only reads the date range, turns
tables into charts and labels, and renders. Definitions: docs/insights.md.
"""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any, Optional

from flask import Response, abort, render_template, request, url_for
from markupsafe import Markup

from console import bp, charts
from console.charts import Bar, Segment
from orderline import insights
from orderline.courier_outbox import STATE_LABELS
from orderline.courier_requests import STATES
from orderline.errors import InvalidInput
from console.deps import deps

COLUMN_LABELS = {
    "channel": "Channel", "intent": "Intent", "conversations": "Conversations", "contained": "Contained",
    "escalated": "Escalated", "still_open": "Window open", "containment_pct": "Containment %",
    "escalations": "Escalations", "handoff_pct": "Handoff %", "resolved": "Resolved", "handed_back": "Handed back",
    "active": "Still active", "reason": "Reason", "share_pct": "Share %", "whatsapp": "WhatsApp", "voice": "Voice",
    "measure": "Measure", "n": "Escalations", "avg_minutes": "Average min", "median_minutes": "Median min",
    "max_minutes": "Longest min", "day": "Day", "phase": "Proactive messages",
    "wismo_contacts": "Order-status contacts",
    "orders_shipped": "Orders shipped", "per_100_shipped": "Per 100 shipped", "days": "Days", "first_day": "From",
    "last_day": "To", "response": "Customer", "orders": "Orders", "failed_attempts": "Failed attempts",
    "delivered": "Delivered", "returned_to_origin": "Returned (RTO)", "pending": "Pending",
    "delivered_pct": "Delivered %", "score": "Score", "responses": "Answers", "average": "Average",
    "satisfied_pct": "Scored 4–5 %", "event": "Notification", "total": "Created", "sent": "Sent", "was_read": "Read",
    "failed": "Failed", "refused": "Refused", "skipped": "Skipped",
}
VALUE_LABELS = {
    "all": "All", "whatsapp": "WhatsApp", "voice": "Voice", "other": "other (no telling intent)",
    "claim": "Time to claim", "first_agent_reply": "Time to first agent reply", "resolution": "Time to resolution",
    "responded": "Answered the NDR message", "no_response": "Did not answer",
}
# How many leading columns name a row (shown as row headers, joined by ":" in data-key).
KEY_COLUMNS = {"handoff_times": 2, "csat_summary": 0}
SECTIONS = (
    ("containment", "Containment", ("containment_channel", "containment_intent")),
    ("escalations", "Escalations", ("handoffs", "handoff_reasons", "handoff_times")),
    ("wismo", "Where-is-my-order volume", ("wismo_phases", "wismo_daily")),
    ("ndr", "Failed-delivery recovery", ("ndr",)),
    ("csat", "Customer satisfaction", ("csat_summary", "csat")),
    ("notifications", "Notifications", ("notifications",)),
)


def label(value: Any) -> str:
    """A key as people read it: 'out_for_delivery' -> 'out for delivery'."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return VALUE_LABELS.get(value, value.replace("_", " "))
    return str(value)


def cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def requested_range() -> insights.DateRange:
    svc = deps()
    return insights.parse_range(request.args.get("from") or None, request.args.get("to") or None,
                                svc.clock.today(), svc.clock.tz)


@bp.get("/insights")
def insights_page():
    svc = deps()
    today = svc.clock.today()
    page = {"presets": presets(today), "today": today, "columns": COLUMN_LABELS, "label": label, "cell": cell}
    try:
        rng = requested_range()
    except InvalidInput as exc:
        # The form comes back with what was typed, and the reason, so it can be fixed in place.
        return render_template("console/insights.html", error=range_message(exc), rng=None,
                               typed={"from": request.args.get("from", ""), "to": request.args.get("to", "")},
                               **page), 400
    tables = insights.report(svc.engine, rng, svc.clock.now())
    span = {"from": rng.first.isoformat(), "to": rng.last.isoformat()}
    csv_urls = {name: url_for("console.insights_csv", name=name, **span) for name in tables}
    return render_template("console/insights.html", error=None, rng=rng, tables=tables, sections=SECTIONS,
                           charts=build_charts(tables, rng), kpis=kpis(tables), typed=span, csv_urls=csv_urls,
                           keys=KEY_COLUMNS, courier_states=courier_states(svc.courier_requests.counts()), **page)


@bp.get("/insights/<name>.csv")
def insights_csv(name: str):
    if name not in insights.FIGURES:
        abort(404)
    try:
        rng = requested_range()
    except InvalidInput as exc:
        return Response(range_message(exc) + "\n", status=400, mimetype="text/plain")
    svc = deps()
    table = insights.report(svc.engine, rng, svc.clock.now(), [name])[name]
    filename = f"orderline-{name}-{rng.first.isoformat()}-{rng.last.isoformat()}.csv"
    return Response(to_csv(table), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


def to_csv(table: insights.Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([csv_safe(row[c]) for c in table.columns])
    return out.getvalue()


def csv_safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def courier_states(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Courier requests by state, in the order they move through (every state shown, zeros too)."""
    return [(STATE_LABELS[state], counts.get(state, 0)) for state in STATES]


def range_message(exc: InvalidInput) -> str:
    names = {"from": "Start date", "to": "End date"}
    return " ".join(f"{names.get(k, k)}: {v}." for k, v in sorted(exc.fields.items(), key=lambda kv: kv[0] != "from"))


def presets(today: date) -> list[tuple[str, str, str]]:
    """(name, from, to) for the quick ranges."""
    return [(f"Last {n} days", (today - timedelta(days=n - 1)).isoformat(), today.isoformat()) for n in (7, 30, 90)]


# -- what the page shows at a glance --------------------------------------------------------------
def _row(table: insights.Table, **match: Any) -> dict[str, Any]:
    return next((r for r in table.rows if all(r[k] == v for k, v in match.items())), {})


def kpis(tables: dict[str, insights.Table]) -> list[dict[str, Any]]:
    contain = _row(tables["containment_channel"], channel="all")
    hand = _row(tables["handoffs"], channel="all")
    reply = _row(tables["handoff_times"], measure="first_agent_reply", channel="all")
    before = _row(tables["wismo_phases"], phase="before")
    after = _row(tables["wismo_phases"], phase="after")
    ndr = _row(tables["ndr"], response="all")
    csat = tables["csat_summary"].rows[0] if tables["csat_summary"].rows else {}
    notes = _row(tables["notifications"], event="all")
    settled = (contain.get("contained") or 0) + (contain.get("escalated") or 0)
    return [
        {"id": "containment", "name": "Containment", "value": pct(contain.get("containment_pct")),
         "note": f"{contain.get('contained', 0)} of {settled} settled conversations"},
        {"id": "handoff", "name": "Handoff rate", "value": pct(hand.get("handoff_pct")),
         "note": f"{hand.get('escalations', 0)} escalations"},
        {"id": "first-reply", "name": "First agent reply", "value": minutes(reply.get("median_minutes")),
         "note": "median"},
        {"id": "wismo", "name": "WISMO per 100 shipped", "value": f"{cell(before.get('per_100_shipped'))} → "
                                                                  f"{cell(after.get('per_100_shipped'))}",
         "note": "before → after proactive messages"},
        {"id": "ndr", "name": "NDR delivered on reattempt", "value": pct(ndr.get("delivered_pct")),
         "note": f"{ndr.get('delivered', 0)} of {ndr.get('orders', 0)} failed deliveries"},
        {"id": "csat", "name": "CSAT", "value": cell(csat.get("average")) + (" / 5" if csat.get("average") else ""),
         "note": f"{csat.get('responses', 0)} answers"},
        {"id": "notifications", "name": "Notifications delivered", "value": pct(notes.get("delivered_pct")),
         "note": f"{notes.get('delivered', 0)} of {notes.get('sent', 0)} sent"},
    ]


def pct(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:g}%"


def minutes(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:g} min"


def build_charts(tables: dict[str, insights.Table], rng: insights.DateRange) -> dict[str, Markup]:
    t = tables
    short = len(rng.days()) <= 10
    wismo_days = [Bar(f"{date.fromisoformat(r['day']):%a} {date.fromisoformat(r['day']).day}" if short
                      else str(date.fromisoformat(r["day"]).day), r["per_100_shipped"],
                      colour="brand" if r["phase"] == "after" else "grey") for r in t["wismo_daily"].rows]
    notes = [(label(r["event"]), notification_segments(r)) for r in t["notifications"].rows
             if r["event"] != "all" and r["total"]]
    return {
        "containment_channel": charts.hbars(
            [Bar(f"{label(r['channel'])} · {r['conversations']} conversations", r["containment_pct"], colour="brand")
             for r in t["containment_channel"].rows], "Containment % by channel", 100, "%"),
        "containment_intent": charts.hbars(
            [Bar(f"{label(r['intent'])} · {r['conversations']}", r["containment_pct"], colour="blue")
             for r in t["containment_intent"].rows], "Containment % by intent", 100, "%"),
        "handoff_reasons": charts.hbars(
            [Bar(label(r["reason"]), r["escalations"], f"{r['escalations']} ({cell(r['share_pct'])}%)", "orange")
             for r in t["handoff_reasons"].rows], "Escalations by reason"),
        "handoff_times": charts.hbars(
            [Bar(label(r["measure"]), r["median_minutes"], minutes(r["median_minutes"]), "purple")
             for r in t["handoff_times"].rows if r["channel"] == "all"], "Median minutes, all channels"),
        "wismo_daily": charts.columns(wismo_days, "Order-status contacts per 100 orders shipped, by day",
                                      legend=[("grey", "before proactive messages"), ("brand", "after")]),
        "wismo_phases": charts.hbars(
            [Bar(f"{label(r['phase'])} proactive messages · {r['days']} days", r["per_100_shipped"],
                 colour="brand" if r["phase"] == "after" else "grey") for r in t["wismo_phases"].rows],
            "Order-status contacts per 100 orders shipped"),
        "ndr": charts.stacked(
            [(label(r["response"]), [Segment("delivered", r["delivered"], "brand"),
                                     Segment("returned to origin", r["returned_to_origin"], "orange"),
                                     Segment("pending", r["pending"], "grey")])
             for r in t["ndr"].rows], "What happened after a failed delivery"),
        "csat": charts.hbars(
            [Bar(f"{r['score']} of 5", r["responses"], f"{r['responses']} ({cell(r['share_pct'])}%)",
                 {5: "brand", 4: "sky", 3: "grey", 2: "amber", 1: "orange"}[r["score"]]) for r in t["csat"].rows],
            "CSAT answers by score"),
        "notifications": charts.stacked(notes, "Notifications by type and outcome"),
    }


def notification_segments(r: dict[str, Any]) -> list[Segment]:
    """Outcomes that add up to the notifications created: a failed send is never also delivered."""
    known = r["delivered"] + r["failed"] + r["refused"] + r["skipped"] + r["pending"]
    return [Segment("delivered", r["delivered"], "brand"),
            Segment("sent, no receipt", max(r["total"] - known, 0), "sky"),
            Segment("failed", r["failed"], "orange"), Segment("refused", r["refused"], "amber"),
            Segment("skipped", r["skipped"], "grey"), Segment("pending", r["pending"], "purple")]
