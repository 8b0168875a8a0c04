"""The customer asked for a person, or complained: hand off (see actions.routes)."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.base import OrderAction
from actions.routes import hand_off


class ActionHandoff(OrderAction):
    """Opens an escalation for the latest intent's queue and pauses the bot."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if ((tracker.latest_message or {}).get("intent") or {}).get("name") == "complaint":
            dispatcher.utter_message(response="utter_complaint_sorry")
        return await hand_off(self.client, dispatcher, tracker,
                              reason=tracker.get_slot("handoff_reason"),
                              note=tracker.get_slot("handoff_note"))
