"""Talk to the Rasa server over its REST channel and tracker API. One client for every channel."""
from __future__ import annotations

import logging
from typing import Any, Optional

import requests

from orderline.ports import AssistantUnavailable, BotMessage, Parse

log = logging.getLogger(__name__)


class RasaClient:
    def __init__(self, base_url: str, timeout: float = 5.0, session: Optional[requests.Session] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = session or requests.Session()

    def send(self, sender: str, text: str, metadata: dict[str, Any], timeout: Optional[float] = None) -> list[BotMessage]:
        """One user turn through the REST channel; returns the bot's messages in order."""
        try:
            resp = self.http.post(f"{self.base_url}/webhooks/rest/webhook",
                                  json={"sender": sender, "message": text, "metadata": metadata},
                                  timeout=timeout or self.timeout)
        except requests.RequestException as exc:
            raise AssistantUnavailable(str(exc)) from exc
        if resp.status_code != 200:
            raise AssistantUnavailable(f"Rasa answered HTTP {resp.status_code}")
        try:
            payload = resp.json()
        except ValueError as exc:
            raise AssistantUnavailable("Rasa answered with invalid JSON") from exc
        return [to_message(m) for m in payload if isinstance(m, dict)]

    def parse(self, text: str, timeout: float = 1.0) -> Optional[Parse]:
        """The intent Rasa's NLU finds in `text` (`POST /model/parse`); None on any failure.

        The REST channel answers with the bot's messages only, so the parse is asked for after the
        turn. Not from the tracker: Rasa loads a tracker with every session the sender ever had, so
        that read grew with the customer's history; this one costs the same every time.
        """
        try:
            resp = self.http.post(f"{self.base_url}/model/parse", json={"text": text}, timeout=timeout)
        except requests.RequestException as exc:
            log.info("Rasa parse unavailable: %s", exc)
            return None
        if resp.status_code != 200:
            log.info("Rasa parse answered HTTP %s", resp.status_code)
            return None
        try:
            parsed = resp.json() or {}
            intent = parsed.get("intent") or {}
            name, confidence = intent.get("name"), intent.get("confidence")
        except (ValueError, AttributeError):
            return None
        if not isinstance(name, str) or not name:
            return None
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
            confidence = None
        return Parse(text=str(parsed.get("text") or ""), intent=name[:40],
                     confidence=None if confidence is None else min(max(float(confidence), 0.0), 1.0))

    def resume(self, sender: str) -> bool:
        """Un-pause the conversation in Rasa's tracker after a human hands it back."""
        return self._event(sender, {"event": "resume"})

    def pause(self, sender: str) -> bool:
        return self._event(sender, {"event": "pause"})

    def _event(self, sender: str, event: dict[str, Any]) -> bool:
        try:
            resp = self.http.post(f"{self.base_url}/conversations/{sender}/tracker/events",
                                  json=event, params={"include_events": "NONE"}, timeout=self.timeout)
        except requests.RequestException as exc:
            log.warning("Rasa %s for %s failed: %s", event["event"], sender, exc)
            return False
        return resp.ok

    def status(self) -> bool:
        try:
            return self.http.get(f"{self.base_url}/", timeout=1.5).ok
        except requests.RequestException:
            return False


def to_message(raw: dict[str, Any]) -> BotMessage:
    buttons = tuple({"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                    for b in raw.get("buttons") or [] if isinstance(b, dict))
    return BotMessage(text=str(raw.get("text") or ""), buttons=buttons, image=raw.get("image"),
                      custom=raw.get("custom") if isinstance(raw.get("custom"), dict) else {})
