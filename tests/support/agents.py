"""An agent row for tests that need someone to claim an escalation (no password: nobody signs in)."""
from __future__ import annotations

from typing import Any

from orderline.models import Agent


def add_agent(sessions: Any, name: str = "asha") -> int:
    """Insert an agent and return its id."""
    with sessions() as s:
        agent = Agent(name=name, password_hash="x")
        s.add(agent)
        s.commit()
        return agent.id
