"""TwiML builders: plain values in, a TwiML document (str) out. No I/O, no Flask.

Speech gathers set no `speechModel` and use `speechTimeout="auto"`: Twilio rejects "auto"
once a model is set, and without one it picks its best model for the language.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Iterable, Optional, Sequence, Tuple, Union

from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.prompts import lang_of

MAX_TWIML_BYTES = 64 * 1024
MAX_SAY_CHARS = 3000  # Twilio caps one <Say> at 4,096 characters
VOICES = {"en": ("en-IN", "Polly.Raveena"), "hi": ("hi-IN", "Polly.Aditi")}
SILENCE_URL = "/twilio/voice/silence"
HOLD_URL = "/twilio/voice/hold"
DEQUEUED_URL = "/twilio/voice/dequeued"


Line = Union[str, Tuple[str, str]]  # text in the document's language, or (language, text)


def _say(parent: VoiceResponse | Gather, lang: str, lines: Iterable[Line]) -> None:
    """One <Say> per run of lines in the same language (long runs split under Twilio's cap)."""
    runs: list[tuple[str, list[str]]] = []
    for line in lines:
        line_lang, text = (line if isinstance(line, tuple) else (lang, line))
        if not text or not text.strip():
            continue
        if runs and runs[-1][0] == lang_of(line_lang):
            runs[-1][1].append(text.strip())
        else:
            runs.append((lang_of(line_lang), [text.strip()]))
    for run_lang, texts in runs:
        language, voice = VOICES[run_lang]
        text = " ".join(texts)
        while text:
            chunk, text = _split(text)
            parent.say(chunk, voice=voice, language=language)


def _split(text: str) -> tuple[str, str]:
    if len(text) <= MAX_SAY_CHARS:
        return text, ""
    cut = text.rfind(". ", 0, MAX_SAY_CHARS)
    cut = cut + 1 if cut > 0 else MAX_SAY_CHARS
    return text[:cut].strip(), text[cut:].strip()


def menu(lang: str, lines: Sequence[Line], prompt: str, action: str = "/twilio/voice/menu") -> str:
    """The main menu: one key or free speech, then (on silence) the no-input handler."""
    language, _ = VOICES[lang_of(lang)]
    vr = VoiceResponse()
    gather = vr.gather(input="dtmf speech", action=action, method="POST", num_digits=1, timeout=6,
                       speech_timeout="auto", language=language)
    _say(gather, lang, [*lines, prompt])
    vr.redirect(SILENCE_URL, method="POST")
    return str(vr)


def keypad(lang: str, lines: Sequence[Line], prompt: str, action: str, num_digits: Optional[int] = None,
           timeout: int = 8) -> str:
    """Collect digits: either exactly `num_digits`, or any number ended by '#'."""
    vr = VoiceResponse()
    kwargs = {"num_digits": num_digits} if num_digits else {"finish_on_key": "#"}
    gather = vr.gather(input="dtmf", action=action, method="POST", timeout=timeout, **kwargs)
    _say(gather, lang, [*lines, prompt])
    vr.redirect(SILENCE_URL, method="POST")
    return str(vr)


def queue(lang: str, lines: Sequence[Line], queue_name: str) -> str:
    """Say `lines`, then wait in the agents' queue with position announcements."""
    vr = VoiceResponse()
    _say(vr, lang, lines)
    vr.enqueue(queue_name, wait_url=HOLD_URL, wait_url_method="POST", action=DEQUEUED_URL, method="POST")
    return str(vr)


def goodbye(lang: str, lines: Sequence[Line]) -> str:
    vr = VoiceResponse()
    _say(vr, lang, lines)
    vr.hangup()
    return str(vr)


def hold(lang: str, text: str, pause_seconds: int = 20) -> str:
    """One loop of the queue's wait music: Twilio fetches the wait URL again when it ends."""
    vr = VoiceResponse()
    _say(vr, lang, [text])
    vr.pause(length=pause_seconds)
    return str(vr)


def apology(lines: Sequence[Line], queue_name: str) -> str:
    """The always-safe answer: apologise (lines may mix languages), then a person."""
    vr = VoiceResponse()
    _say(vr, "en", lines)
    vr.enqueue(queue_name, wait_url=HOLD_URL, wait_url_method="POST", action=DEQUEUED_URL, method="POST")
    return str(vr)


def agent_prompt(lines: Sequence[Line], prompt: str, action: str, num_digits: Optional[int] = None) -> str:
    vr = VoiceResponse()
    kwargs = {"num_digits": num_digits} if num_digits else {"finish_on_key": "#"}
    gather = vr.gather(input="dtmf", action=action, method="POST", timeout=10, **kwargs)
    _say(gather, "en", [*lines, prompt])
    _say(vr, "en", ["Goodbye."])
    vr.hangup()
    return str(vr)


def agent_bridge(lines: Sequence[Line], queue_name: str, after: str) -> str:
    """Bridge the agent to the caller who has waited longest in `queue_name`."""
    vr = VoiceResponse()
    _say(vr, "en", lines)
    dial = vr.dial(action=after, method="POST")
    dial.queue(queue_name)
    return str(vr)


def empty() -> str:
    """An answer with nothing to do (status callbacks)."""
    return str(VoiceResponse())


def spoken_text(twiml: str) -> str:
    """Everything a TwiML document says, in order (for the transcript)."""
    root = ET.fromstring(twiml)
    return " ".join((el.text or "").strip() for el in root.iter("Say") if (el.text or "").strip())


def fits(twiml: str) -> bool:
    return len(twiml.encode("utf-8")) < MAX_TWIML_BYTES
