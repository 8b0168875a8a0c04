"""Dashboard figures against a seeded dataset with answers worked out by hand, on SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from orderline import insights
from orderline.errors import InvalidInput
from tests.support.insights_seed import EXPECTED, FROM, NOW, TO, seed

IST = ZoneInfo("Asia/Kolkata")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "insights.md"
RANGE = insights.DateRange(date.fromisoformat(FROM), date.fromisoformat(TO), IST)


@pytest.fixture
def seeded(services):
    seed(services.sessions)
    return services


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_figure_matches_the_hand_worked_answer(seeded, name):
    with seeded.engine.connect() as conn:
        table = insights.run(conn, name, RANGE, NOW)
    assert table.rows == EXPECTED[name]
    assert table.columns == tuple(EXPECTED[name][0])


def test_every_figure_has_known_answers():
    assert set(EXPECTED) == set(insights.FIGURES)


def test_report_runs_every_figure_once(seeded):
    tables = insights.report(seeded.engine, RANGE, NOW)
    assert list(tables) == list(insights.FIGURES)
    assert tables["csat_summary"].rows == EXPECTED["csat_summary"]


def test_an_empty_database_gives_zeros_not_errors(services):
    tables = insights.report(services.engine, RANGE, NOW)
    assert tables["containment_channel"].rows == [
        {"channel": "all", "conversations": 0, "contained": 0, "escalated": 0, "still_open": 0,
         "containment_pct": None}]
    assert [r["orders_shipped"] for r in tables["wismo_daily"].rows] == [0] * 7
    assert {r["phase"] for r in tables["wismo_daily"].rows} == {"before"}  # nothing proactive was ever sent
    assert tables["csat_summary"].rows == [{"responses": 0, "average": None, "satisfied_pct": None}]
    assert tables["ndr"].rows[0] == {"response": "all", "orders": 0, "failed_attempts": 0, "delivered": 0,
                                     "returned_to_origin": 0, "pending": 0, "delivered_pct": None}
    assert tables["handoff_times"].rows == []


def test_days_are_business_days_not_utc_days(seeded):
    """Conversation I was at 00:10 IST on 22 Nov (18:40 UTC on the 21st); shipment s1 likewise."""
    with seeded.engine.connect() as conn:
        one_day = insights.DateRange(date(2026, 11, 22), date(2026, 11, 22), IST)
        daily = insights.run(conn, "wismo_daily", one_day, NOW).rows
        utc_day = insights.DateRange(date(2026, 11, 22), date(2026, 11, 22), ZoneInfo("UTC"))
        utc = insights.run(conn, "wismo_daily", utc_day, NOW).rows
    assert daily == [{"day": "2026-11-22", "phase": "before", "wismo_contacts": 1, "orders_shipped": 2,
                      "per_100_shipped": 50.0}]
    # In UTC, the 22nd loses both to the 21st and gains nothing from the 23rd (05:30 IST).
    assert (utc[0]["wismo_contacts"], utc[0]["orders_shipped"]) == (0, 1)


def test_containment_waits_for_the_window_to_close(seeded):
    """G (28 Nov 10:00) is open at 11:00; a day later the window has closed and it is contained."""
    later = datetime(2026, 11, 29, 10, 1, tzinfo=IST)
    with seeded.engine.connect() as conn:
        rows = insights.run(conn, "containment_channel", RANGE, later).rows
    assert rows[1] == {"channel": "whatsapp", "conversations": 8, "contained": 5, "escalated": 3, "still_open": 0,
                       "containment_pct": 62.5}


# -- the date range --------------------------------------------------------------------------
TODAY = date(2026, 11, 28)


def test_default_range_is_the_last_seven_days():
    rng = insights.parse_range(None, None, TODAY, IST)
    assert (rng.first, rng.last) == (date(2026, 11, 22), TODAY)
    assert rng.starts == datetime(2026, 11, 22, tzinfo=IST) and rng.ends == datetime(2026, 11, 29, tzinfo=IST)
    assert len(rng.days()) == 7
    assert insights.parse_range("", "2026-11-10", TODAY, IST).first == date(2026, 11, 4)


@pytest.mark.parametrize("first,last,field", [
    ("yesterday", None, "from"), ("2026-02-30", None, "from"), ("2026-11-1", None, "from"),
    (None, "28/11/2026", "to"), ("1999-12-31", None, "from"), ("2026-11-28", "2026-11-01", "from"),
    ("2024-01-01", "2026-11-28", "to"), ("0001-01-01", None, "from"),
])
def test_bad_ranges_say_which_field_is_wrong(first, last, field):
    with pytest.raises(InvalidInput) as exc:
        insights.parse_range(first, last, TODAY, IST)
    assert field in exc.value.fields


def test_a_year_is_the_longest_range():
    assert len(insights.parse_range("2025-11-28", "2026-11-28", TODAY, IST).days()) == 366


# -- the SQL itself ---------------------------------------------------------------------------
def squash(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def test_every_statement_is_documented_verbatim():
    docs = squash(DOCS.read_text())
    for name, figure in insights.FIGURES.items():
        assert squash(figure.select) in docs, f"docs/insights.md lacks the SQL of {name}"
        assert f"`{name}`" in docs
    for name, cte in insights.CTES.items():
        assert squash(cte) in docs, f"docs/insights.md lacks the {name} CTE"
    for value in insights.GENERIC_INTENTS + insights.WISMO_INTENTS:
        assert value in docs


def test_rendering_spells_epoch_per_dialect_and_lists_each_day():
    figure = insights.FIGURES["containment_channel"]
    pg, params = insights.render(figure, RANGE, NOW, "postgresql")
    lite, _ = insights.render(figure, RANGE, NOW, "sqlite")
    assert "EXTRACT(EPOCH FROM e.created_at)" in str(pg) and "EPOCH(" not in str(pg).replace("(EPOCH FROM", "")
    assert "julianday(e.created_at)" in str(lite)
    assert params["day_6"] == "2026-11-28" and params["start_0"] == datetime(2026, 11, 22, tzinfo=IST)
    _, reasons = insights.render(insights.FIGURES["handoff_reasons"], RANGE, NOW, "sqlite")
    assert set(reasons) == {"start", "end"}  # only the parameters the statement uses


def test_shipped_means_the_courier_has_it_in_our_statuses_not_a_couriers_labels():
    assert set(insights.SHIPPED_STATUSES) == {"shipped", "in_transit", "out_for_delivery", "delivery_failed",
                                              "delivered"}
    for figure in insights.FIGURES.values():
        assert "ev.status" not in insights.statement_text(figure) and "x.status" not in insights.statement_text(figure)


def test_long_ranges_and_daylight_saving_put_each_message_on_its_local_day(services):
    """Days are found by arithmetic (DAYNUM) and checked against their bounds: in a zone with
    daylight saving, messages just either side of local midnight still land on their own day,
    across both clock changes and many months."""
    from tests.support.insights_seed import Seeder

    london = ZoneInfo("Europe/London")
    local = [datetime(2026, 3, 28, 23, 59, tzinfo=london), datetime(2026, 3, 29, 0, 1, tzinfo=london),
             datetime(2026, 3, 29, 23, 59, tzinfo=london), datetime(2026, 3, 30, 0, 1, tzinfo=london),
             datetime(2026, 6, 30, 23, 59, tzinfo=london), datetime(2026, 10, 24, 23, 59, tzinfo=london),
             datetime(2026, 10, 25, 0, 1, tzinfo=london), datetime(2026, 10, 25, 23, 59, tzinfo=london),
             datetime(2026, 10, 26, 0, 0, tzinfo=london), datetime(2026, 12, 31, 23, 59, tzinfo=london)]
    with services.sessions() as session:
        seeder = Seeder(session)
        for i, when in enumerate(local):
            seeder.said(f"+9197000000{i:02d}", "whatsapp", when, "where is my order", intent="order_status")
        session.commit()
    rng = insights.DateRange(date(2026, 1, 1), date(2026, 12, 31), london)
    with services.engine.connect() as conn:
        rows = insights.run(conn, "wismo_daily", rng, datetime(2027, 1, 1, tzinfo=london)).rows
    assert len(rows) == 365
    counted = {r["day"]: r["wismo_contacts"] for r in rows if r["wismo_contacts"]}
    expected: dict[str, int] = {}
    for when in local:
        expected[when.date().isoformat()] = expected.get(when.date().isoformat(), 0) + 1
    assert counted == expected
