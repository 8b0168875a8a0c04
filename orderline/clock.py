"""Time as the business sees it (Asia/Kolkata by default). Injectable for tests."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Clock:
    tz: ZoneInfo = ZoneInfo("Asia/Kolkata")
    now_fn: Callable[[], datetime] = lambda: datetime.now(timezone.utc)

    def now(self) -> datetime:
        return self.now_fn().astimezone(self.tz)

    def today(self) -> date:
        return self.now().date()

    @classmethod
    def fixed(cls, at: datetime, tz: str = "Asia/Kolkata") -> "Clock":
        return cls(ZoneInfo(tz), lambda: at)
