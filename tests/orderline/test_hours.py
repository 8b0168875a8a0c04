"""The team's working hours, which every channel asks before promising a person."""
from datetime import datetime

import pytest

from orderline.hours import TeamHours
from tests.support.values import IST


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=IST)


@pytest.mark.parametrize("hour,minute,open_", [(8, 59, False), (9, 0, True), (12, 30, True), (20, 59, True),
                                               (21, 0, False), (23, 30, False), (0, 0, False)])
def test_open_from_nine_to_nine_by_default(hour, minute, open_):
    assert TeamHours().is_open(at(28, hour, minute)) is open_


def test_next_opening_is_today_before_hours_else_tomorrow():
    hours = TeamHours()
    assert hours.next_opening(at(28, 7)) == at(28, 9)
    assert hours.next_opening(at(28, 12)) == at(29, 9)
    assert hours.next_opening(at(28, 22)) == at(29, 9)
    assert hours.next_opening(datetime(2026, 11, 30, 23, tzinfo=IST)) == datetime(2026, 12, 1, 9, tzinfo=IST)


def test_other_hours():
    night_shift_off = TeamHours(open_hour=10, close_hour=18)
    assert not night_shift_off.is_open(at(28, 9, 30)) and night_shift_off.is_open(at(28, 17, 59))
    assert f"{night_shift_off.opens:%H:%M}–{night_shift_off.closes:%H:%M}" == "10:00–18:00"
