"""The IVR's own settings, taken from the app's Settings in this one place (see docs/ivr.md)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orderline.hours import TeamHours

QUEUE_NAME = "support"


@dataclass(frozen=True)
class VoiceConfig:
    address_template_sid: str = ""  # Twilio Content SID of the address-change template
    agent_pin: str = ""  # empty: the agent line refuses everyone
    hours: TeamHours = TeamHours()  # when callers may wait in the queue for a person
    queue: str = QUEUE_NAME


def voice_config(settings: Any) -> VoiceConfig:
    """TWILIO_TEMPLATE_ADDRESS_CHANGE arrives with the other templates; AGENT_LINE_PIN is its own field."""
    return VoiceConfig(
        address_template_sid=settings.template_map.get("address_change", "").strip(),
        agent_pin=(settings.agent_line_pin or "").strip(),
    )
