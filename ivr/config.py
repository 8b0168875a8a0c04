"""The IVR's own settings, taken from the app's Settings in this one place (see docs/ivr.md)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from orderline.hours import TeamHours

log = logging.getLogger(__name__)
QUEUE_NAME = "support"


@dataclass(frozen=True)
class VoiceConfig:
    address_template_sid: str = ""  # Twilio Content SID of the address-change template
    agent_pin: str = ""  # empty: the agent line refuses everyone
    agent_numbers: frozenset[str] = frozenset()  # E.164; empty: any number may try the PIN
    hours: TeamHours = TeamHours()  # when callers may wait in the queue for a person
    queue: str = QUEUE_NAME


def voice_config(settings: Any) -> VoiceConfig:
    """TWILIO_TEMPLATE_ADDRESS_CHANGE arrives with the other templates; AGENT_LINE_PIN and
    AGENT_LINE_ALLOWED_NUMBERS are their own fields.

    An unusable agent-line setting (a PIN under 6 digits, a number that is not E.164) stops a
    production start (`Settings.check_production`); in development the agent line is turned
    off with one log line, and the rest of the app runs.
    """
    problem = settings.agent_line_problem()
    if problem:
        log.warning("the agent line is off: %s", problem)
    return VoiceConfig(
        address_template_sid=settings.template_map.get("address_change", "").strip(),
        agent_pin="" if problem else settings.agent_line_pin.strip(),
        agent_numbers=frozenset() if problem else settings.agent_line_numbers,
    )
