"""The console in a real browser: Debian's chromium driven by Playwright against a live threaded server.

Covers sign-in, the queue updating live (SSE) with an alert, claim, a reply seen at the fake Twilio,
the transcript updating live, and the hand-back; then the same pages at phone width (390 px).
Screenshots go to tests/screenshots/ (git-ignored) and are checked to be real pictures.
Runs on SQLite only, to keep the suite fast.
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from console.actions import HANDED_BACK_TEXT
from console.agents import create_agent
from orderline.clock import Clock
from orderline.db import upgrade_schema
from orderline.demo import demo_orders
from orderline.importer import import_orders
from orderline.settings import Settings
from tests.support.agent_console import PASSWORD, SID, TOKEN, twilio_settings
from tests.support.browser import browser_fixture, fits_width, shoot, sign_in
from tests.support.fake_rasa import FakeRasa
from tests.support.fake_twilio import FakeTwilio
from tests.support.values import API_TOKEN, SHIPROCKET_TOKEN
from wiring import create_app
from tests.support import fake_rasa
from wiring import Services

browser = browser_fixture(scope="module")


class LiveConsole:
    def __init__(self, tmp: Path, redis_url: str) -> None:
        self.twilio = FakeTwilio(SID, TOKEN)
        self.twilio.start()
        self.rasa = FakeRasa()
        self.rasa.start()
        url = f"sqlite:///{tmp}/console.db"
        upgrade_schema(url)
        base = Settings(database_url=url, redis_url=redis_url, api_token=API_TOKEN,
                        shiprocket_webhook_token=SHIPROCKET_TOKEN, secret_key="browser-test-secret",
                        orderline_env="development", rasa_channel_secret=fake_rasa.SECRET,
                        rasa_auth_token=fake_rasa.TOKEN)
        self.settings = twilio_settings(base, self.twilio, self.rasa.base_url)
        self.services = Services.build(self.settings, Clock())
        report = import_orders(self.services.sessions, demo_orders(self.services.clock.now()))
        assert not report.errors
        create_agent(self.services.sessions, "asha", PASSWORD)
        self.app = create_app(self.settings, self.services)
        self.app.config.update(CONSOLE_SSE_HEARTBEAT=2.0, CONSOLE_SSE_MAX_SECONDS=60.0)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def escalate(self, phone: str, reason: str = "payments", text: str | None = "I was charged twice") -> dict:
        first = self.services.orders.for_phone(phone)[0]
        order = first.order_id
        if text:
            self.services.conversations.record_inbound(phone, "whatsapp", text, profile_name=first.customer.name)
        resp = requests.post(f"{self.url}/api/v1/escalations", timeout=10,
                             headers={"Authorization": f"Bearer {API_TOKEN}"},
                             json={"reason": reason, "phone": phone, "order_id": order, "intent": "payment_issue",
                                   "confidence": 0.4, "note": "customer asked for a person"})
        assert resp.status_code == 201, resp.text
        return resp.json()["escalation"]

    def stop(self) -> None:
        self.server.shutdown()
        self.twilio.stop()
        self.rasa.stop()
        self.services.engine.dispose()


@pytest.fixture(scope="module")
def live(tmp_path_factory, redis_db):
    redis_db.flush()  # the owner cache of an earlier test's database
    console = LiveConsole(tmp_path_factory.mktemp("console"), redis_db.url)
    yield console
    console.stop()


def test_agent_works_a_conversation_in_the_browser(live, browser):
    phone = "+919000000001"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live.url, "asha", PASSWORD)

    # The queue is live: an escalation opened after the page loaded appears without a reload.
    page.click("#sound")  # the user gesture browsers require before WebAudio may sound
    page.wait_for_selector("#live[data-state=live]", timeout=10_000)
    assert page.inner_text("#sound") == "Sound on"
    assert page.evaluate("window.consoleState.beeps") == 1  # the test beep on enabling
    assert page.evaluate("window.consoleState.audioState()") == "running"
    assert not page.is_visible("#alert") and page.is_visible("#queue-empty")
    page.evaluate("window.__sameDocument = true")
    # An event from some other deployment on the same Redis: no such escalation here, so no alert.
    live.services.conversations.publish({"type": "escalation", "id": 987654, "reason": "general",
                                         "priority": 1, "phone": "+919000000009"})
    esc = live.escalate(phone)
    card = page.locator(f'#queue li[data-id="{esc["id"]}"]')
    card.wait_for(timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True
    assert "payments" in card.inner_text() and "waiting" in card.inner_text()
    page.wait_for_function(f"window.consoleState.alerted.includes({esc['id']})")
    assert 987654 not in page.evaluate("window.consoleState.alerted")
    assert page.is_visible("#alert") and phone in page.inner_text("#alert")
    assert not page.is_visible("#queue-empty")
    # The alert sounded. (At least once: the Redis channel is server-wide, and another suite's
    # escalation with the same id and phone would alert again.)
    assert page.evaluate("window.consoleState.beeps") >= 2
    assert page.evaluate("document.title").startswith("(!)")
    assert page.inner_text("#queue-count") == "1"
    shoot(page, "console-queue.png")

    # Conversation view: transcript and order panel; claim; reply over WhatsApp.
    card.locator("a").click()
    page.wait_for_url(f"{live.url}/agent/conversations/{phone}")
    assert "I was charged twice" in page.inner_text("#transcript")
    assert esc["order_id"] in page.inner_text("aside.order")
    page.click("#claim")
    page.wait_for_selector("text=You have claimed this conversation.")
    page.fill("#reply", "Hi Asha, I have checked: the second charge is being refunded.")
    page.click("#send")
    page.wait_for_selector("text=Sent over WhatsApp.")
    sent = live.twilio.wait_for(phone, 1)
    assert sent[0]["body"] == "Hi Asha, I have checked: the second charge is being refunded."

    # The transcript follows the customer live.
    page.evaluate("window.__sameDocument = true")
    live.services.conversations.record_inbound(phone, "whatsapp", "Thank you so much!")
    page.wait_for_selector("#transcript >> text=Thank you so much!", timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True
    shoot(page, "console-conversation.png")

    # Give it back to the bot.
    page.click("#handback")
    page.wait_for_selector("text=Handed back to the bot.")
    assert page.inner_text("#conv-state") == "bot"
    assert live.services.conversations.state(phone) == "bot"
    assert (phone, {"event": "resume"}) in live.rasa.events
    assert [m["body"] for m in live.twilio.wait_for(phone, 2)][-1] == HANDED_BACK_TEXT
    page.goto(f"{live.url}/agent/")
    assert page.is_visible("#queue-empty")
    assert errors == []
    context.close()


def test_console_fits_a_phone(live, browser):
    phone = "+919000000002"
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    sign_in(page, live.url, "asha", PASSWORD)
    esc = live.escalate(phone, "delivery", "Where is my parcel? It was supposed to come yesterday.")
    page.reload()
    page.wait_for_selector(f'#queue li[data-id="{esc["id"]}"]')
    assert fits_width(page, 390)
    shoot(page, "console-queue-phone.png")
    page.click(f'#queue li[data-id="{esc["id"]}"] a')
    page.wait_for_url(f"{live.url}/agent/conversations/{phone}")
    assert fits_width(page, 390)
    box = page.locator("#claim").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
    shoot(page, "console-conversation-phone.png")
    context.close()


def test_agent_acts_on_the_order_from_the_panel(live, browser):
    """A canned reply goes into the reply box, and *Resend tracking* in the order panel reaches Twilio."""
    phone = "+919000000003"  # OL-100241: out for delivery, with an AWB
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live.url, "asha", PASSWORD)  # signing in puts asha on shift
    esc = live.escalate(phone, "delivery", "Where is my parcel?")
    assert esc["assignee"] == "asha"
    page.goto(f"{live.url}/agent/conversations/{phone}")
    assert "asha" in page.inner_text("#assignee")
    page.select_option("#canned", label="Anything else")
    assert page.input_value("#reply") == "Is there anything else I can help you with?"
    awb = live.services.orders.get("OL-100241").shipment.awb
    page.click("#act-tracking")
    page.wait_for_selector("text=Tracking details sent over WhatsApp.")
    sent = live.twilio.wait_for(phone, 1)
    assert len(sent) == 1 and awb in sent[0]["body"]
    assert "OL-100241: Tracking details sent" in page.inner_text("#transcript")
    assert live.services.escalations.get(esc["id"]).agent == "asha"  # acting claimed it
    shoot(page, "console-order-actions.png")
    assert errors == []
    context.close()
