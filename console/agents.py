"""Agent accounts: creation and password checks. Passwords are stored hashed (werkzeug)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from flask_login import UserMixin
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from orderline.models import Agent, AuditLog

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
MIN_PASSWORD = 8
# Checked when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class AgentError(ValueError):
    pass


@dataclass(frozen=True)
class AgentUser(UserMixin):
    """The signed-in agent, detached from any DB session."""

    id: int
    name: str

    def get_id(self) -> str:
        return str(self.id)

    @property
    def author(self) -> str:
        return f"agent:{self.name}"


def create_agent(factory: sessionmaker[Session], name: str, password: str) -> AgentUser:
    name = (name or "").strip()
    if not NAME.match(name):
        raise AgentError("agent names are 1-80 letters, digits, dots, dashes or underscores")
    if len(password or "") < MIN_PASSWORD:
        raise AgentError(f"the password needs at least {MIN_PASSWORD} characters")
    with factory() as session:
        agent = Agent(name=name, password_hash=generate_password_hash(password))
        session.add(agent)
        try:
            session.commit()
        except IntegrityError as exc:
            raise AgentError(f"an agent called {name!r} already exists") from exc
        return AgentUser(agent.id, agent.name)


def authenticate(factory: sessionmaker[Session], name: str, password: str) -> Optional[AgentUser]:
    with factory() as session:
        agent = session.scalars(select(Agent).where(Agent.name == (name or "").strip())).one_or_none()
        if agent is None:
            check_password_hash(_DUMMY_HASH, password or "")
            return None
        if not check_password_hash(agent.password_hash, password or ""):
            return None
        return AgentUser(agent.id, agent.name)


def record_sign_in(factory: sessionmaker[Session], name: str, address: str, ok: bool) -> None:
    """Audit every password check, so guessing shows in `audit_log` (entity `agent`)."""
    name = (name or "").strip()[:60]
    with factory() as session:
        session.add(AuditLog(actor=f"agent:{name}" if ok else "anonymous", entity="agent", entity_id=name,
                             action="sign_in" if ok else "sign_in_failed", changes={"address": address}))
        session.commit()


def load_agent(factory: sessionmaker[Session], agent_id: str) -> Optional[AgentUser]:
    if not agent_id.isdigit():
        return None
    with factory() as session:
        agent = session.get(Agent, int(agent_id))
        return AgentUser(agent.id, agent.name) if agent else None


def list_agents(factory: sessionmaker[Session]) -> list[AgentUser]:
    with factory() as session:
        return [AgentUser(a.id, a.name) for a in session.scalars(select(Agent).order_by(Agent.name))]
