"""The simulator in a real browser (Debian's chromium through Playwright) against the real product:
the app on HTTP, the real Rasa with the trained model, the action server, and an RQ worker started
from the Procfile's own `worker:` line. No Twilio account: sends go to the local outbox.

Screenshots go to tests/screenshots/ (git-ignored) and are checked to be real pictures.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Page, expect

from console.agents import create_agent
from tests.support import procfile
from tests.support.browser import browser_fixture, shoot as screenshot
from tests.support.live_stack import LiveStack, start_live_stack

PASSWORD = "simulator agent password"
ASSISTANT = 60_000  # ms: the first turns of a cold Rasa on a busy 2-core machine are slow


@pytest.fixture(scope="module")
def stack(redis_db) -> Iterator[LiveStack]:
    stack = start_live_stack(redis_db.url, outbox=True)
    assert stack.settings.simulator_on and not stack.settings.twilio_account_sid
    create_agent(stack.services.sessions, "asha", PASSWORD)
    worker_log = open(stack.workdir / "worker.log", "w")
    stack.procs.append(procfile.start("worker", stack.settings, worker_log))
    yield stack
    stack.stop()
    worker_log.close()


browser = browser_fixture(scope="module")


@pytest.fixture
def page(browser, stack) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{stack.app_url}/try")
    page.wait_for_function("window.simState && window.simState.polls > 0")
    yield page
    assert errors == []
    context.close()


def be(page: Page, phone: str) -> None:
    page.select_option("#customer", phone)
    expect(page.locator("#who")).to_contain_text(phone)


def chat(page: Page, text: str) -> None:
    page.fill("#wa-text", text)
    page.click("#wa-send")


def shoot(page: Page, name: str) -> Path:
    """The simulator's pages are wide and busy, so its screenshots are held to more than the console's."""
    return screenshot(page, name, min_colours=50, min_size=(1000, 600))


def test_a_status_question_is_answered_in_the_thread(page):
    be(page, "+919000000003")  # Priya: a COD order out for delivery
    chat(page, "where is my order")
    mine = page.locator("#wa-thread li.bubble.out", has_text="where is my order")
    expect(mine).to_be_visible()
    answer = page.locator("#wa-thread li.bubble.in", has_text="100241")
    expect(answer).to_be_visible(timeout=ASSISTANT)
    assert "out for delivery" in answer.inner_text().lower()
    assert answer.locator(".author").inner_text() == "Assistant"
    expect(page.locator("#wa-state")).to_have_text("assistant")
    expect(page.locator("#wa-typing")).to_be_hidden()
    shoot(page, "sim-whatsapp-status.png")


def test_dial_press_1_and_hear_the_status(page):
    be(page, "+919000000003")
    page.click("#dial")
    expect(page.locator("#call-state")).to_have_text("In call: listening", timeout=20_000)
    expect(page.locator("#call-log")).to_contain_text("Hello Priya")
    page.click('.key[data-key="1"]')
    answer = page.locator("#call-log li.you ~ li.said", has_text="O L 1 0 0 2 4 1")
    expect(answer.first).to_be_visible(timeout=20_000)
    assert "out for delivery" in answer.first.inner_text().lower()
    spoken = page.evaluate("window.simState.spoken")
    assert any(s["lang"] == "en-IN" and "out for delivery" in s["text"].lower() for s in spoken[1:]), spoken
    shoot(page, "sim-phone.png")
    page.click("#hangup")
    expect(page.locator("#call-state")).to_have_text("Call ended: you hung up")
    # A Hindi-speaking customer is greeted in Hindi, and the browser is asked for a Hindi voice.
    be(page, "+919000000002")
    before = page.evaluate("window.simState.spoken.length")
    page.click("#dial")
    expect(page.locator("#call-state")).to_have_text("In call: listening", timeout=20_000)
    assert {s["lang"] for s in page.evaluate(f"window.simState.spoken.slice({before})")} == {"hi-IN"}
    page.click("#hangup")


def test_out_for_delivery_arrives_in_the_thread(page, stack):
    be(page, "+919000000001")  # Asha: OL-100201 is in transit
    chat(page, "hi")  # a customer who has written is inside WhatsApp's 24-hour window
    expect(page.locator("#wa-thread li.bubble.in")).not_to_have_count(0, timeout=ASSISTANT)
    page.click('button.event[data-order="OL-100201"][data-event="out_for_delivery"]')
    expect(page.locator("#event-note")).to_contain_text("OUT FOR DELIVERY for OL-100201")
    update = page.locator("#wa-thread li.bubble.in", has_text="out for delivery today")
    expect(update).to_be_visible(timeout=30_000)  # applied and sent by the Procfile's worker
    assert update.locator(".author").inner_text() == "Order update · out for delivery"
    expect(update.locator(".tick")).to_have_text("✓✓")  # the local outbox counts as delivered
    expect(page.locator("#orders li", has_text="OL-100201").locator(".pill").first).to_have_text("out for delivery")
    shoot(page, "sim-shipment-event.png")


def test_asking_for_a_person_reaches_the_console(page, browser, stack):
    console = browser.new_context(viewport={"width": 1280, "height": 900})
    agent = console.new_page()
    agent.goto(f"{stack.app_url}/agent/login")
    agent.fill("#name", "asha")
    agent.fill("#password", PASSWORD)
    agent.click("button[type=submit]")
    agent.wait_for_url(f"{stack.app_url}/agent/")
    agent.wait_for_selector("#live[data-state=live]", timeout=10_000)

    be(page, "+919000000007")  # Meera
    chat(page, "I want to talk to a person")
    expect(page.locator("#wa-state")).to_have_text("waiting for a person", timeout=ASSISTANT)
    expect(page.locator("#wa-thread")).to_contain_text("A member of our support team will reply here")
    card = agent.locator("#queue li", has_text="+919000000007")
    expect(card).to_be_visible(timeout=15_000)  # live, without a reload
    assert "whatsapp" in card.inner_text().lower()
    shoot(page, "sim-handoff.png")
    shoot(agent, "sim-console-escalation.png")
    console.close()
