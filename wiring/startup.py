"""Settings for a process the wiring starts (web, worker, cron, CLI), or one line and a non-zero exit.

`Settings.from_env()` refuses an unsafe production (a missing secret, the simulator switched
on) with a one-line reason; here that reason becomes the process's only output, not a traceback.
"""
from __future__ import annotations

from orderline.settings import Settings


def settings_or_exit() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:
        raise SystemExit(f"orderline: {exc}") from None
