"""The dashboard in a real browser: Debian's chromium via Playwright, on the seeded dataset.

Signs in, opens Insights from the nav, reads the figures off the page and compares them with
the hand-worked answers, narrows the range with the form, downloads a CSV, and checks the page
at phone width. Screenshots go to tests/screenshots/ (git-ignored). SQLite only, like the
console's browser test, whose sign-in and width helpers (tests/support/browser.py) this shares.
"""
from __future__ import annotations

import csv
import io
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from console.agents import create_agent
from orderline.clock import Clock
from orderline.db import upgrade_schema
from orderline.settings import Settings
from tests.support.agent_console import PASSWORD
from tests.support.browser import browser_fixture, fits_width, shoot, sign_in
from tests.support.insights_seed import EXPECTED, NOW, seed
from tests.support.values import API_TOKEN, SHIPROCKET_TOKEN
from wiring import create_app
from wiring import Services

browser = browser_fixture(scope="module")


class LiveInsights:
    """The app on a threaded werkzeug server, with the seeded dataset and the test clock."""

    def __init__(self, tmp: Path, redis_url: str) -> None:
        url = f"sqlite:///{tmp}/insights.db"
        upgrade_schema(url)
        settings = Settings(database_url=url, redis_url=redis_url, api_token=API_TOKEN,
                            shiprocket_webhook_token=SHIPROCKET_TOKEN, secret_key="insights-browser-secret",
                            rasa_url="http://127.0.0.1:9", orderline_env="development")
        self.services = Services.build(settings, Clock.fixed(NOW))
        seed(self.services.sessions)
        create_agent(self.services.sessions, "asha", PASSWORD)
        app = create_app(settings, self.services)
        app.config.update(CONSOLE_SSE_HEARTBEAT=2.0, CONSOLE_SSE_MAX_SECONDS=30.0)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.services.engine.dispose()


@pytest.fixture(scope="module")
def live(tmp_path_factory, redis_db):
    redis_db.flush()
    server = LiveInsights(tmp_path_factory.mktemp("insights"), redis_db.url)
    yield server
    server.stop()


def cell(page, table: str, key: str, col: str) -> str:
    return page.inner_text(f'#t-{table} tr[data-key="{key}"] [data-col="{col}"]').strip()


def shown(value) -> str:
    if value is None:
        return "–"
    return f"{value:g}" if isinstance(value, float) else str(value)


def test_dashboard_shows_the_seeded_figures(live, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live.url, "asha", PASSWORD)
    page.click("header nav >> text=Insights")
    page.wait_for_url(f"{live.url}/agent/insights")

    # The default range is the last 7 IST days by the clock: Sun 22 – Sat 28 Nov, as seeded.
    assert "Sun 22 Nov 2026 – Sat 28 Nov 2026" in page.inner_text("#range-label")
    kpis = {k: page.inner_text(f"#kpi-{k} .kpi-value").strip() for k in
            ("containment", "handoff", "first-reply", "wismo", "ndr", "csat", "notifications")}
    assert kpis == {"containment": "50%", "handoff": "36.4%", "first-reply": "7.5 min", "wismo": "66.7 → 42.9",
                    "ndr": "50%", "csat": "3.67 / 5", "notifications": "50%"}

    # Every figure, as the page shows it, against the hand-worked answers.
    keys = {"handoff_times": 2, "csat_summary": 0}
    for name, rows in EXPECTED.items():
        n = keys.get(name, 1)
        assert page.locator(f"#t-{name} tbody tr").count() == len(rows), name
        for row in rows:
            cols = list(row)
            key = ":".join(str(row[c]) for c in cols[:n])
            for col in cols[n:]:
                assert cell(page, name, key, col) == shown(row[col]), (name, key, col)

    # The charts are drawn: one bar per non-zero value.
    assert page.locator("svg.chart").count() == 9
    assert page.locator("#fig-containment_channel svg rect.bar").count() == 3
    assert page.locator("#fig-wismo_daily svg rect.bar").count() == 5  # two days shipped nothing: no rate
    assert page.locator("#fig-csat svg rect.bar").count() == 4  # nobody gave a 3
    box = page.locator("#fig-containment_channel svg").bounding_box()
    assert box and box["width"] > 300 and box["height"] > 80
    shoot(page, "insights.png")

    # A CSV of a table, as downloaded.
    with page.expect_download() as download:
        page.click("#fig-ndr a.csv")
    text = Path(download.value.path()).read_text()
    assert download.value.suggested_filename == "orderline-ndr-2026-11-22-2026-11-28.csv"
    assert list(csv.DictReader(io.StringIO(text))) == [{k: "" if v is None else str(v) for k, v in r.items()}
                                                       for r in EXPECTED["ndr"]]

    # Narrow the range with the form: only the days after proactive messages started.
    page.fill("#from", "2026-11-25")
    page.click("#range button[type=submit]")
    page.wait_for_url(f"{live.url}/agent/insights?from=2026-11-25&to=2026-11-28")
    assert page.locator("#t-wismo_daily tbody tr").count() == 4
    assert cell(page, "wismo_phases", "before", "days") == "0"
    assert cell(page, "wismo_phases", "after", "per_100_shipped") == "42.9"
    assert page.inner_text("#kpi-wismo .kpi-value").strip() == "– → 42.9"
    assert errors == []
    context.close()


def test_dashboard_fits_a_phone_and_explains_a_bad_range(live, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    sign_in(page, live.url, "asha", PASSWORD)
    page.goto(f"{live.url}/agent/insights?from=2026-11-22&to=2026-11-28")
    assert fits_width(page, 390)
    for chart in page.locator("svg.chart").all():
        box = chart.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.inner_text("#kpi-containment .kpi-value").strip() == "50%"
    shoot(page, "insights-phone.png")

    resp = page.goto(f"{live.url}/agent/insights?from=2026-11-28&to=2026-11-01")
    assert resp is not None and resp.status == 400
    assert page.inner_text("#range-error") == "Start date: must not be after the end date."
    assert page.input_value("#from") == "2026-11-28"
    assert fits_width(page, 390)
    context.close()
