"""What every order action shares: the client, the context, the way out to a person."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api.orders import Order, OrderServiceClient
from actions.formatting import Ctx
from actions.identity import resolve_order
from actions.routes import updated


class OrderAction(Action, ABC):
    """An action that needs the order service.

    Args:
        client: Injected in tests; the action server builds one from the environment.
    """

    def __init__(self, client: Optional[OrderServiceClient] = None) -> None:
        self.client = client or OrderServiceClient.from_env()

    @abstractmethod
    def name(self) -> Text:
        """The action's name, as declared in domain/<this module>.yml."""


class OrderTaskAction(OrderAction):
    """An action about one of the customer's orders.

    `run` first settles which order the customer may talk about (see
    `actions.identity.resolve_order`), then calls `handle` with it. If the
    customer must answer a question first, `run` stops there and the answer
    brings the conversation back here through `pending_action`.
    """

    answers_aside = False  # a question that may come in the middle of another (see `back_to`)

    @staticmethod
    def wants(order: Order) -> bool:
        """Which of the customer's orders this task is most likely about."""
        return order.is_open

    @staticmethod
    def near(order: Order) -> bool:
        """When no order is eligible, the ones worth explaining the refusal on."""
        return order.is_open

    def eligible(self, tracker: Tracker) -> Callable[[Order], bool]:
        """Which orders this request can be about; the message may narrow it ("it's late")."""
        return self.wants

    @abstractmethod
    async def handle(
        self, order: Order, ctx: Ctx, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> List[EventType]:
        """Does the task for an order the customer may talk about."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        held = tracker.get_slot("awaiting") if self.answers_aside else None
        resolution = await resolve_order(self.client, dispatcher, tracker, self.name(), self.eligible(tracker),
                                        self.near)
        if resolution.order is None:
            return resolution.events
        ctx = Ctx.from_tracker(tracker)
        settled = resolution.events + [SlotSet("pending_action", None)]
        events = settled + await self.handle(resolution.order, ctx, dispatcher, updated(tracker, settled))
        return events + await self.back_to(held, dispatcher, updated(tracker, events))

    async def back_to(self, held: Optional[Text], dispatcher: CollectingDispatcher,
                      tracker: Tracker) -> List[EventType]:
        """After a side answer, asks again the yes/no question that was pending (actions.pending)."""
        from actions import pending  # here, not at the top: actions.pending builds on these tasks

        if held not in pending.YES_NO or tracker.get_slot("awaiting"):
            return []  # nothing was pending, or the answer asked something of its own
        events = [SlotSet("awaiting", held)] + await pending.miss_awaiting(
            self.client, dispatcher, tracker, held, aside=False)
        return events
