"""Start one process of the Procfile exactly as honcho would: its command line, through bash,
from the project root, with the given environment (tests point it at their own DB and Redis)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import IO, Optional

from orderline.settings import ROOT, Settings

PROCFILE = ROOT / "Procfile"


def command(name: str, procfile: Path = PROCFILE) -> str:
    for line in procfile.read_text().splitlines():
        key, sep, cmd = line.partition(":")
        if sep and key.strip() == name:
            return cmd.strip()
    raise LookupError(f"no {name!r} process in {procfile}")


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes `Settings.from_env()` in the child equal `settings` (empty values included,
    so a developer's .env cannot fill them in)."""
    env = {key: str(getattr(settings, key.lower())) for key in (
        "DATABASE_URL", "REDIS_URL", "RASA_URL", "ORDER_SERVICE_URL", "API_TOKEN", "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_FROM", "TWILIO_API_BASE_URL", "PUBLIC_BASE_URL",
        "SHIPROCKET_WEBHOOK_TOKEN", "SECRET_KEY", "TIMEZONE", "ORDERLINE_ENV", "RASA_CHANNEL_SECRET",
        "RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN")}
    env.update({f"TWILIO_TEMPLATE_{event.upper()}": sid for event, sid in settings.templates})
    return env


def start(name: str, settings: Settings, log: Optional[IO[str]] = None) -> subprocess.Popen:
    """Run the Procfile's `name` process against `settings`; stop it with terminate()."""
    env = {**os.environ, **settings_env(settings), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.Popen(["bash", "-c", "exec " + command(name)], cwd=ROOT, env=env,
                            stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
