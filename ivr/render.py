"""Prompts to TwiML, through the pure builders in `ivr.twiml`. No I/O."""
from __future__ import annotations

from typing import Optional

from ivr import twiml
from ivr.session import Menu
from ivr.turn import Ask, Enqueue, Goodbye, Hold, Prompt

URL = "/twilio/voice"
# Where each keypad menu's answer is posted (the routes in ivr.views), and how many keys it takes
# (None: any number, ended by '#'). The main menu also takes speech: see twiml.menu.
KEYPADS: dict[Menu, tuple[str, Optional[int]]] = {
    Menu.ORDER: (f"{URL}/order", None),
    Menu.CONFIRM: (f"{URL}/order/confirm", 1),
    Menu.VERIFY: (f"{URL}/order/verify", None),
    Menu.CODE: (f"{URL}/order/code", None),
    Menu.RESCHEDULE: (f"{URL}/reschedule", 1),
    Menu.RESCHEDULE_CONFIRM: (f"{URL}/reschedule/confirm", 1),
    Menu.AFTER_HOURS: (f"{URL}/callback", 1),
}


def render(prompt: Prompt, queue: str) -> str:
    """The TwiML document for `prompt`; `queue` is the agents' Twilio queue."""
    if isinstance(prompt, Ask):
        if prompt.menu is Menu.MAIN:
            return twiml.menu(prompt.lang, prompt.lines, prompt.prompt)
        action, num_digits = KEYPADS[prompt.menu]
        return twiml.keypad(prompt.lang, prompt.lines, prompt.prompt, action, num_digits=num_digits)
    if isinstance(prompt, Enqueue):
        return twiml.queue(prompt.lang, prompt.lines, queue)
    if isinstance(prompt, Goodbye):
        return twiml.goodbye(prompt.lang, prompt.lines)
    if isinstance(prompt, Hold):
        return twiml.hold(prompt.lang, prompt.text)
    raise TypeError(f"not a prompt: {prompt!r}")
