"""When the support team works: the one rule every channel asks before promising a person."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta


@dataclass(frozen=True)
class TeamHours:
    """Agents work every day from `open_hour` to `close_hour` (whole hours, business timezone).

    Times passed in are the business clock's (`Clock.now()`); their wall-clock time is what counts.
    """

    open_hour: int = 9
    close_hour: int = 21

    @property
    def opens(self) -> time:
        return time(self.open_hour)

    @property
    def closes(self) -> time:
        return time(self.close_hour)

    def is_open(self, now: datetime) -> bool:
        """True while a person can pick up a conversation or a call."""
        return self.opens <= now.time() < self.closes

    def next_opening(self, now: datetime) -> datetime:
        """The next start of the working day after `now`: today's if it is still to come, else tomorrow's."""
        day = now.date() if now.time() < self.opens else now.date() + timedelta(days=1)
        return datetime.combine(day, self.opens, tzinfo=now.tzinfo)
