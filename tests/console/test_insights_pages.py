"""The dashboard page and its CSV exports: sign-in, the seeded figures as shown, date ranges, escaping."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

import pytest

from console.insights import csv_safe, to_csv
from orderline import insights
from orderline.models import Conversation, Message
from tests.support.insights_seed import EXPECTED, FROM, TO, seed

SPAN = f"from={FROM}&to={TO}"


class Tables(HTMLParser):
    """Every `table.data` on a page: {table id: [(data-key, {data-col: text})]}, plus the KPI values."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[tuple[str, dict[str, str]]]] = {}
        self.kpis: dict[str, str] = {}
        self._table = self._col = self._kpi = None
        self._text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Any]]) -> None:
        a = dict(attrs)
        if tag == "table" and "data" in (a.get("class") or "").split():
            self._table = a["id"].removeprefix("t-")
            self.tables[self._table] = []
        elif tag == "tr" and self._table and "data-key" in a:
            self.tables[self._table].append((a["data-key"], {}))
        elif tag in ("td", "th") and self._table and a.get("data-col") and self.tables[self._table]:
            self._col, self._text = a["data-col"], []
        elif tag == "li" and (a.get("id") or "").startswith("kpi-"):
            self._kpi = a["id"].removeprefix("kpi-")
        elif tag == "strong" and self._kpi:
            self._col, self._text = "kpi", []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._col and self._table:
            self.tables[self._table][-1][1][self._col] = "".join(self._text).strip()
            self._col = None
        elif tag == "strong" and self._col == "kpi":
            self.kpis[self._kpi] = " ".join("".join(self._text).split())
            self._col = self._kpi = None

    def handle_data(self, data: str) -> None:
        if self._col:
            self._text.append(data)


def shown(value: Any) -> str:
    """How a value should read in a table cell."""
    if value is None:
        return "–"
    return f"{value:g}" if isinstance(value, float) else str(value)


def expected_cells(name: str) -> list[tuple[str, dict[str, str]]]:
    keys = {"handoff_times": 2, "csat_summary": 0}.get(name, 1)
    out = []
    for row in EXPECTED[name]:
        cols = list(row)
        out.append((":".join(str(row[c]) for c in cols[:keys]), {c: shown(row[c]) for c in cols[keys:]}))
    return out


@pytest.fixture
def seeded(services):
    seed(services.sessions)
    return services


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for path in ("/agent/insights", f"/agent/insights?{SPAN}", "/agent/insights/csat.csv"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/agent/login?next=" in resp.headers["Location"]


def test_the_console_nav_links_the_dashboard(as_asha):
    assert 'href="/agent/insights"' in as_asha.get("/agent/").get_data(as_text=True)


def test_the_page_shows_every_seeded_figure(as_asha, seeded):
    resp = as_asha.get(f"/agent/insights?{SPAN}")
    assert resp.status_code == 200
    page = Tables(resp.get_data(as_text=True))
    assert set(page.tables) == set(insights.FIGURES)
    for name in insights.FIGURES:
        got = [(key, {c: v for c, v in cells.items() if c in dict(exp)}) for (key, cells), (_, exp)
               in zip(page.tables[name], expected_cells(name))]
        assert got == expected_cells(name), name
    assert page.kpis == {"containment": "50%", "handoff": "36.4%", "first-reply": "7.5 min", "wismo": "66.7 → 42.9",
                         "ndr": "50%", "csat": "3.67 / 5", "notifications": "50%"}


def test_charts_are_inline_svg_with_one_bar_per_value(as_asha, seeded):
    html = as_asha.get(f"/agent/insights?{SPAN}").get_data(as_text=True)
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 9
    assert "<script src=\"http" not in html and "cdn" not in html.lower()
    channel_chart = html.split('id="fig-containment_channel"')[1].split("</svg>")[0]
    assert channel_chart.count('class="bar"') == 3


def test_default_range_is_the_last_seven_business_days(as_asha, seeded):
    html = as_asha.get("/agent/insights").get_data(as_text=True)
    assert "Sun 22 Nov 2026 – Sat 28 Nov 2026" in html and 'value="2026-11-22"' in html
    assert Tables(html).kpis["containment"] == "50%"


@pytest.mark.parametrize("query,message", [
    ("from=2026-13-01", "Start date: a date as YYYY-MM-DD."),
    ("from=2026-11-28&to=2026-11-01", "Start date: must not be after the end date."),
    ("from=2020-01-01&to=2026-11-28", "End date: the range may span at most 366 days."),
    ("to=<script>", "End date: a date as YYYY-MM-DD."),
])
def test_a_bad_range_is_a_400_page_that_keeps_the_form(as_asha, query, message):
    resp = as_asha.get(f"/agent/insights?{query}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and message in html
    assert 'id="range"' in html and "<script>" not in html.split('id="range"')[1]
    csv_resp = as_asha.get(f"/agent/insights/ndr.csv?{query}")
    assert csv_resp.status_code == 400 and csv_resp.mimetype == "text/plain"
    assert csv_resp.get_data(as_text=True).strip() == message


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_table_exports_as_csv(as_asha, seeded, name):
    resp = as_asha.get(f"/agent/insights/{name}.csv?{SPAN}")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="orderline-{name}-{FROM}-{TO}.csv"'
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert rows[0] == list(EXPECTED[name][0])
    assert rows[1:] == [["" if v is None else str(v) for v in r.values()] for r in EXPECTED[name]]


def test_csv_links_carry_the_range_and_unknown_tables_are_404(as_asha, seeded):
    html = as_asha.get(f"/agent/insights?{SPAN}").get_data(as_text=True)
    assert f'href="/agent/insights/ndr.csv?from={FROM}&amp;to={TO}"' in html
    assert as_asha.get(f"/agent/insights/orders.csv?{SPAN}").status_code == 404


def test_spreadsheet_formulas_are_defused_in_csv():
    table = insights.Table("x", "x", ("intent", "n"), [{"intent": "=HYPERLINK(\"http://evil\")", "n": -3},
                                                       {"intent": "@SUM(A1)", "n": None}])
    assert to_csv(table).splitlines() == ["intent,n", "\"'=HYPERLINK(\"\"http://evil\"\")\",-3", "'@SUM(A1),"]
    assert csv_safe("order_status") == "order_status" and csv_safe(2.5) == 2.5


def test_labels_from_the_data_are_escaped_on_the_page(as_asha, services, clock):
    with services.sessions() as session:
        conv = Conversation(phone="+919100000077")
        now = clock.now()
        session.add_all([conv, Message(conversation=conv, direction="in", channel="whatsapp", author="customer",
                                       text="x", intent="<b>evil</b>", created_at=now),
                         Message(conversation=conv, direction="out", channel="whatsapp", author="bot", text="y",
                                 created_at=datetime.fromtimestamp(now.timestamp() + 1, now.tzinfo))])
        session.commit()
    html = as_asha.get("/agent/insights").get_data(as_text=True)
    assert "<b>evil</b>" not in html and "&lt;b&gt;evil&lt;/b&gt;" in html
