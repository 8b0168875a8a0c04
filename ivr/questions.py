"""What each menu position asks: the words, shorter on each reprompt (`level` > 0). No I/O."""
from __future__ import annotations

from datetime import date
from typing import Callable

from ivr.prompts import t
from ivr.session import CallSession, Menu
from ivr.speech import order_ref, say_date, spell_out
from ivr.turn import Ask
from ivr.twiml import Line

MAIN_PROMPTS = ("menu", "menu_short", "menu_shortest")


def question(s: CallSession, level: int, lines: tuple[Line, ...], today: date) -> Ask:
    """Say `lines`, then ask what the caller's menu position asks."""
    return QUESTIONS[s.menu](s, level, lines, today)


def _main_question(s: CallSession, level: int, lines: tuple[Line, ...], _: date) -> Ask:
    return Ask(Menu.MAIN, s.language, lines, t(s.language, MAIN_PROMPTS[min(level, 2)]))


def _order_question(s: CallSession, level: int, lines: tuple[Line, ...], _: date) -> Ask:
    return Ask(Menu.ORDER, s.language, lines, t(s.language, "enter_order_short" if level else "enter_order"))


def _confirm_question(s: CallSession, level: int, lines: tuple[Line, ...], _: date) -> Ask:
    key = "confirm_order_short" if level else "confirm_order"
    return Ask(Menu.CONFIRM, s.language, lines, t(s.language, key, ref=spell_out(s.pending_order or "")))


def _verify_question(s: CallSession, level: int, lines: tuple[Line, ...], _: date) -> Ask:
    return Ask(Menu.VERIFY, s.language, lines, t(s.language, "verify_short" if level else "verify"))


def _code_question(s: CallSession, level: int, lines: tuple[Line, ...], _: date) -> Ask:
    return Ask(Menu.CODE, s.language, lines, t(s.language, "code_short" if level else "code"))


def _reschedule_question(s: CallSession, level: int, lines: tuple[Line, ...], today: date) -> Ask:
    lang = s.language
    options = [t(lang, "reschedule_option", day=say_date(d, today, lang), digit=i)
               for i, d in enumerate(s.reschedule_days, start=1)]
    intro = t(lang, "reschedule_short") if level else t(lang, "reschedule_intro", ref=order_ref(s.order_id or ""))
    return Ask(Menu.RESCHEDULE, lang, (*lines, intro), " ".join(options))


def _reschedule_confirm_question(s: CallSession, level: int, lines: tuple[Line, ...], today: date) -> Ask:
    day = say_date(s.reschedule_day, today, s.language)
    key = "reschedule_confirm_short" if level else "reschedule_confirm"
    return Ask(Menu.RESCHEDULE_CONFIRM, s.language, lines, t(s.language, key, day=day))


def _after_hours_question(s: CallSession, _: int, lines: tuple[Line, ...], __: date) -> Ask:
    return Ask(Menu.AFTER_HOURS, s.language, lines, t(s.language, "after_hours"))


QUESTIONS: dict[Menu, Callable[[CallSession, int, tuple[Line, ...], date], Ask]] = {
    Menu.MAIN: _main_question,
    Menu.ORDER: _order_question,
    Menu.CONFIRM: _confirm_question,
    Menu.VERIFY: _verify_question,
    Menu.CODE: _code_question,
    Menu.RESCHEDULE: _reschedule_question,
    Menu.RESCHEDULE_CONFIRM: _reschedule_confirm_question,
    Menu.AFTER_HOURS: _after_hours_question,
}
