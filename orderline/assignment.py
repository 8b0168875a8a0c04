"""Who a new escalation goes to: the agent on shift with the fewest open ones; and reassigning by hand.

An agent is on shift from signing in to the console until signing out (or the shift's end,
`Agent.on_shift_until`). An agent's load is the active escalations they hold: claimed by them,
or open and assigned to them. Ties go to the agent who has been on the team longest (lowest
id), so the choice is the same on every run. The assignee is whose queue an open escalation is
in; a claim still decides who may act (`EscalationService.claim`).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from orderline.clock import Clock
from orderline.errors import EscalationNotFound, InvalidInput, RuleViolation
from orderline.models import Agent, AuditLog, Escalation
from orderline.orders import in_transaction

SHIFT = timedelta(hours=12)  # matches the console sign-in's lifetime


def _on_shift_loads(now: datetime):  # type: ignore[no-untyped-def]
    """(agent id, name, active escalations) of every agent on shift, fewest first, then lowest id.

    An active escalation counts against its claimer, else its assignee.
    """
    holder = case((Escalation.status == "claimed", Escalation.agent_id), else_=Escalation.assignee_id)
    load = (select(holder.label("agent_id"), func.count().label("n"))
            .where(Escalation.status.in_(("open", "claimed"))).group_by(holder).subquery())
    n = func.coalesce(load.c.n, 0)
    return (select(Agent.id, Agent.name, n.label("n")).outerjoin(load, load.c.agent_id == Agent.id)
            .where(Agent.on_shift_until > now).order_by(n, Agent.id))


def least_loaded(session: Session, now: datetime) -> Optional[int]:
    """The id of the on-shift agent with the fewest active escalations, or None when nobody is on shift."""
    row = session.execute(_on_shift_loads(now).limit(1)).first()
    return row.id if row else None


def loads(session: Session, now: datetime) -> dict[str, int]:
    """Each on-shift agent's name and active escalations, fewest first (for the console's assign menu)."""
    return {row.name: row.n for row in session.execute(_on_shift_loads(now))}


class Assignments:
    """Shifts and manual reassignment; each public method is one unit of work."""

    def __init__(self, factory: sessionmaker[Session], clock: Clock) -> None:
        self.factory = factory
        self.clock = clock

    def start_shift(self, agent_id: int, length: timedelta = SHIFT) -> None:
        self._set_shift(agent_id, self.clock.now() + length)

    def end_shift(self, agent_id: int) -> None:
        self._set_shift(agent_id, None)

    def _set_shift(self, agent_id: int, until: Optional[datetime]) -> None:
        def work(session: Session) -> None:
            agent = session.get(Agent, agent_id)
            if agent is not None:
                agent.on_shift_until = until

        in_transaction(self.factory, work)

    def on_shift(self) -> dict[str, int]:
        with self.factory() as session:
            return loads(session, self.clock.now())

    def reassign(self, esc_id: int, agent_name: str, actor: str) -> str:
        """Put an open escalation in `agent_name`'s queue (any agent, on shift or not); audited.

        Returns the previous assignee's name ('' for none). Raises EscalationNotFound,
        InvalidInput (no such agent), RuleViolation (claimed or resolved: a claim moves by take-over).
        """
        def work(session: Session) -> str:
            esc = session.get(Escalation, esc_id)
            if esc is None:
                raise EscalationNotFound(f"no escalation {esc_id}")
            agent = session.scalars(select(Agent).where(Agent.name == agent_name)).one_or_none()
            if agent is None:
                raise InvalidInput({"agent": "no agent by that name"})
            if esc.status != "open":
                raise RuleViolation("only an escalation nobody has claimed can be reassigned; "
                                    "a claimed one moves when another agent takes it over")
            before = esc.assignee.name if esc.assignee else ""
            esc.assignee_id = agent.id
            session.add(AuditLog(actor=actor[:100], entity="escalation", entity_id=str(esc.id), action="reassigned",
                                 changes={"from": before or None, "to": agent.name}))
            return before

        return in_transaction(self.factory, work)
