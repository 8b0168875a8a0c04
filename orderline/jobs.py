"""The job queue port: background work is named, never imported, by the code that asks for it."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol


class JobQueue(Protocol):
    """Runs named jobs later in a worker process. Arguments must be plain JSON values."""

    def enqueue(self, job: str, *args: Any, at_front: bool = False, timeout: int | None = None,
                **kwargs: Any) -> None:
        """Queue `job` to run as soon as a worker is free."""

    def enqueue_in(self, delay: timedelta, job: str, *args: Any, **kwargs: Any) -> None:
        """Queue `job` to run after `delay`."""
