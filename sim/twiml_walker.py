"""Play TwiML the way Twilio Voice does: the browser simulator and the scripted test caller share it.

Pure, no I/O:
- `validate(twiml)` rejects what Twilio would reject: a root other than <Response>, documents
  of 64 kB or more, unknown verbs or nouns, unknown attributes (allow-lists from Twilio's TwiML
  docs), bad attribute values, and `speechTimeout="auto"` together with a `speechModel`.
- `walk(twiml, doc_url, inputs)` plays one document against the caller's next inputs and says
  what Twilio would do next (request a URL with which parameters, queue the call, dial, hang
  up). It resolves relative URLs, follows <Gather> semantics (numDigits, finishOnKey, input
  types) and the no-input fall-through to the next verb unless `actionOnEmptyResult="true"`.
  A caller who answers one turn at a time (the simulator) passes `wait_for_input=True` and
  resumes at the <Gather> it stopped on.
- `call_params`, `hold_params`, `dequeue_params`, `status_params`: the form fields Twilio sends
  with each kind of voice request.
"""
from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Iterator, Optional, Union
from urllib.parse import urljoin

MAX_BYTES = 64 * 1024
MAX_SAY_CHARS = 4096

# -- allow-lists (https://www.twilio.com/docs/voice/twiml) ---------------------------------
VERB_ATTRS: dict[str, set[str]] = {
    "Say": {"voice", "loop", "language"},
    "Play": {"loop", "digits"},
    "Pause": {"length"},
    "Gather": {"action", "actionOnEmptyResult", "enhanced", "finishOnKey", "hints", "input", "language",
               "method", "numDigits", "partialResultCallback", "partialResultCallbackMethod", "profanityFilter",
               "speechTimeout", "speechModel", "timeout", "debug", "dtmfDetection"},
    "Redirect": {"method"},
    "Hangup": set(),
    "Reject": {"reason"},
    "Leave": set(),
    "Enqueue": {"action", "maxQueueSize", "method", "waitUrl", "waitUrlMethod", "workflowSid"},
    "Dial": {"action", "answerOnBridge", "callerId", "callReason", "hangupOnStar", "method", "record",
             "recordingStatusCallback", "recordingStatusCallbackMethod", "recordingStatusCallbackEvent",
             "recordingTrack", "referUrl", "referMethod", "ringTone", "timeLimit", "timeout", "trim", "sequential",
             "events"},
    "Record": {"action", "finishOnKey", "maxLength", "method", "playBeep", "recordingStatusCallback",
               "recordingStatusCallbackMethod", "recordingStatusCallbackEvent", "timeout", "transcribe",
               "transcribeCallback", "trim"},
}
NOUN_ATTRS: dict[str, set[str]] = {
    "Queue": {"url", "method", "reservationSid", "postWorkActivitySid"},
    "Number": {"sendDigits", "url", "method", "statusCallbackEvent", "statusCallback", "statusCallbackMethod",
               "byoc", "machineDetection", "amdStatusCallback", "amdStatusCallbackMethod"},
    "Client": {"url", "method", "statusCallbackEvent", "statusCallback", "statusCallbackMethod"},
    "Task": {"priority", "timeout"},
}
SSML_TAGS = {"break", "emphasis", "lang", "p", "phoneme", "prosody", "s", "say-as", "sub", "w"}
CHILDREN: dict[str, set[str]] = {
    "Gather": {"Say", "Play", "Pause"},
    "Dial": {"Queue", "Number", "Client", "Sip", "Conference", "Sim", "Application"},
    "Enqueue": {"Task"},
    "Say": SSML_TAGS,
}
TEXT_REQUIRED = {"Say", "Redirect", "Queue", "Number", "Client"}
WAIT_URL_VERBS = {"Say", "Play", "Pause", "Hangup", "Redirect", "Leave", "Gather"}
SPEECH_MODELS = {"default", "numbers_and_commands", "phone_call", "experimental_conversations",
                 "experimental_utterances", "googlev2_long", "googlev2_short", "googlev2_telephony",
                 "googlev2_telephony_short", "deepgram_nova-2", "deepgram_nova-3"}
GATHER_INPUTS = {"dtmf", "speech", "dtmf speech", "speech dtmf"}
POLLY_VOICE_LANGUAGES = {
    "Polly.Aditi": {"en-IN", "hi-IN"}, "Polly.Raveena": {"en-IN"}, "Polly.Kajal-Neural": {"en-IN", "hi-IN"},
    "Polly.Joanna": {"en-US"}, "Polly.Matthew": {"en-US"}, "Polly.Amy": {"en-GB"},
}
BASIC_VOICES = {"man", "woman", "alice"}
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
BOOL = {"true", "false"}


class TwimlRejected(AssertionError):
    """Twilio would refuse this document (an application error on a real call)."""


def validate(twiml: str, wait_url: bool = False) -> ET.Element:
    """Parse `twiml` and check it as Twilio would. Returns the <Response> element."""
    size = len(twiml.encode("utf-8"))
    if size >= MAX_BYTES:
        raise TwimlRejected(f"document is {size} bytes; Twilio's limit is 64 kB")
    try:
        root = ET.fromstring(twiml)
    except ET.ParseError as exc:
        raise TwimlRejected(f"not XML: {exc}") from exc
    if root.tag != "Response":
        raise TwimlRejected(f"root is <{root.tag}>, not <Response>")
    if root.attrib:
        raise TwimlRejected(f"<Response> takes no attributes: {sorted(root.attrib)}")
    if (root.text or "").strip():
        raise TwimlRejected("text directly inside <Response>")
    for verb in root:
        if wait_url and verb.tag not in WAIT_URL_VERBS:
            raise TwimlRejected(f"<{verb.tag}> is not allowed in a waitUrl document")
        _check(verb, VERB_ATTRS, parent="Response")
    return root


def _check(el: ET.Element, table: dict[str, set[str]], parent: str) -> None:
    if el.tag not in table:
        raise TwimlRejected(f"unknown element <{el.tag}> inside <{parent}>")
    unknown = set(el.attrib) - table[el.tag]
    if unknown:
        raise TwimlRejected(f"<{el.tag}> has unknown attributes {sorted(unknown)}")
    text = (el.text or "").strip()
    if el.tag in TEXT_REQUIRED and not text and not len(el):
        raise TwimlRejected(f"<{el.tag}> needs content")
    if el.tag == "Enqueue" and not text and "workflowSid" not in el.attrib:
        raise TwimlRejected("<Enqueue> needs a queue name")
    if el.tag == "Play" and not text and "digits" not in el.attrib:
        raise TwimlRejected("<Play> needs a URL or digits")
    if el.tag == "Say" and len(text) > MAX_SAY_CHARS:
        raise TwimlRejected(f"<Say> text is {len(text)} characters; Twilio's limit is {MAX_SAY_CHARS}")
    _check_values(el)
    allowed = CHILDREN.get(el.tag, set())
    for child in el:
        if child.tag not in allowed:
            raise TwimlRejected(f"<{child.tag}> cannot be nested in <{el.tag}>")
        if el.tag == "Say":
            continue  # SSML: tags checked above, attributes are SSML's own
        _check(child, VERB_ATTRS if el.tag == "Gather" else NOUN_ATTRS, parent=el.tag)


def _check_values(el: ET.Element) -> None:
    a = el.attrib
    for key in ("method", "waitUrlMethod", "partialResultCallbackMethod", "recordingStatusCallbackMethod"):
        if key in a and a[key] not in ("GET", "POST"):
            raise TwimlRejected(f"<{el.tag} {key}={a[key]!r}>: GET or POST")
    for key in ("action", "waitUrl", "url"):
        if key in a and not a[key].strip():
            raise TwimlRejected(f"<{el.tag}> has an empty {key}")
    for key in ("numDigits", "length", "loop", "timeout", "maxQueueSize", "timeLimit", "maxLength"):
        if key in a and not (a[key].isdigit() and (int(a[key]) > 0 or key in ("loop", "length", "timeout"))):
            raise TwimlRejected(f"<{el.tag} {key}={a[key]!r}>: not a valid integer")
    for key in ("actionOnEmptyResult", "enhanced", "profanityFilter", "debug", "hangupOnStar", "answerOnBridge"):
        if key in a and a[key] not in BOOL:
            raise TwimlRejected(f"<{el.tag} {key}={a[key]!r}>: true or false")
    if el.tag == "Gather":
        if "input" in a and a["input"] not in GATHER_INPUTS:
            raise TwimlRejected(f"<Gather input={a['input']!r}>")
        if "finishOnKey" in a and not re.fullmatch(r"[0-9#*]?", a["finishOnKey"]):
            raise TwimlRejected(f"<Gather finishOnKey={a['finishOnKey']!r}>")
        if "language" in a and not LANG_RE.match(a["language"]):
            raise TwimlRejected(f"<Gather language={a['language']!r}>")
        timeout = a.get("speechTimeout")
        if timeout is not None and timeout != "auto" and not timeout.isdigit():
            raise TwimlRejected(f"<Gather speechTimeout={timeout!r}>: a whole number of seconds or auto")
        model = a.get("speechModel")
        if model is not None and model not in SPEECH_MODELS and not re.match(r"^(Google|Deepgram)\.", model):
            raise TwimlRejected(f"<Gather speechModel={model!r}>")
        if model is not None and timeout == "auto":
            raise TwimlRejected('<Gather speechTimeout="auto"> cannot be used with a speechModel (Twilio 13335)')
    if el.tag == "Say":
        language, voice = a.get("language"), a.get("voice")
        if language is not None and not LANG_RE.match(language):
            raise TwimlRejected(f"<Say language={language!r}>")
        if voice is not None:
            if voice.startswith("Polly."):
                langs = POLLY_VOICE_LANGUAGES.get(voice)
                if langs is None:
                    raise TwimlRejected(f"<Say voice={voice!r}> is not in the test's allow-list")
                if language and language not in langs:
                    raise TwimlRejected(f"<Say voice={voice!r}> cannot speak {language}")
            elif voice not in BASIC_VOICES and not voice.startswith("Google."):
                raise TwimlRejected(f"<Say voice={voice!r}>")


# -- what the caller does --------------------------------------------------------------
@dataclass(frozen=True)
class Keys:
    digits: str


@dataclass(frozen=True)
class Speech:
    text: str
    confidence: float = 0.92


@dataclass(frozen=True)
class Silence:
    pass


@dataclass(frozen=True)
class HangUp:
    pass


Input = Union[Keys, Speech, Silence, HangUp]


@dataclass(frozen=True)
class Said:
    text: str
    language: Optional[str]
    voice: Optional[str]


@dataclass
class Next:
    """What Twilio does after playing a document."""

    said: list[Said] = field(default_factory=list)
    url: Optional[str] = None  # absolute URL to request next
    method: str = "POST"
    params: dict[str, str] = field(default_factory=dict)
    kind: str = ""  # keypad, speech, empty, redirect
    ended: Optional[str] = None  # hangup, end, caller_hung_up, enqueue, dial, reject
    queue: Optional[str] = None
    wait_url: Optional[str] = None
    action_url: Optional[str] = None
    consumed: int = 0
    gathers: list[dict[str, str]] = field(default_factory=list)
    waiting: Optional[int] = None  # index of the <Gather> still waiting for the caller (wait_for_input)


def walk(twiml: str, doc_url: str, inputs: Iterator[Input], wait_for_input: bool = False,
         resume_at: Optional[int] = None) -> Next:
    """Play one validated document; consume one input per <Gather> reached.

    When `inputs` runs out at a <Gather>, the caller hangs up, unless `wait_for_input`: then the
    walk stops there with `Next.waiting` set to the verb's index. Calling again with
    `resume_at=` that index plays on from that <Gather> without saying its prompts twice.
    """
    root = validate(twiml)
    verbs = list(root)
    if resume_at is not None and not (0 <= resume_at < len(verbs) and verbs[resume_at].tag == "Gather"):
        raise ValueError(f"cannot resume at verb {resume_at}: not a <Gather>")
    out = Next()
    for index in range(resume_at or 0, len(verbs)):
        verb = verbs[index]
        tag, a = verb.tag, verb.attrib
        if tag == "Say":
            out.said.append(Said((verb.text or "").strip(), a.get("language"), a.get("voice")))
        elif tag in ("Play", "Pause"):
            continue
        elif tag == "Gather":
            out.gathers.append(dict(a))
            if index != resume_at:
                for child in verb:
                    if child.tag == "Say":
                        out.said.append(Said((child.text or "").strip(), child.get("language"), child.get("voice")))
            given = next(inputs, None)
            if given is None and wait_for_input:
                out.waiting = index
                return out
            out.consumed += 1
            result = _gather(a, given if given is not None else HangUp())
            if result == "hangup":
                out.ended = "caller_hung_up"
                return out
            if result is None:
                if a.get("actionOnEmptyResult") == "true":
                    out.url, out.kind = urljoin(doc_url, a.get("action") or doc_url), "empty"
                    out.method = a.get("method", "POST")
                    return out
                continue  # no input: Twilio moves on to the next verb
            out.url, out.params = urljoin(doc_url, a.get("action") or doc_url), result
            out.kind = "speech" if "SpeechResult" in result else "keypad"
            out.method = a.get("method", "POST")
            return out
        elif tag == "Redirect":
            out.url, out.kind, out.method = urljoin(doc_url, (verb.text or "").strip()), "redirect", a.get("method", "POST")
            return out
        elif tag == "Hangup":
            out.ended = "hangup"
            return out
        elif tag == "Reject":
            out.ended = "reject"
            return out
        elif tag == "Enqueue":
            out.ended, out.queue = "enqueue", (verb.text or "").strip()
            out.wait_url = urljoin(doc_url, a["waitUrl"]) if "waitUrl" in a else None
            out.action_url = urljoin(doc_url, a["action"]) if "action" in a else None
            return out
        elif tag == "Dial":
            out.ended = "dial"
            queue = verb.find("Queue")
            out.queue = (queue.text or "").strip() if queue is not None else None
            out.action_url = urljoin(doc_url, a["action"]) if "action" in a else None
            return out
        else:
            raise TwimlRejected(f"the walker cannot play <{tag}>")
    out.ended = "end"  # Twilio hangs up when a document runs out
    return out


def _gather(a: dict[str, str], given: Input) -> Union[None, str, dict[str, str]]:
    modes = set(a.get("input", "dtmf").split())
    if isinstance(given, HangUp):
        return "hangup"
    if isinstance(given, Keys) and "dtmf" in modes:
        keys, finish = given.digits, a.get("finishOnKey", "#")
        num = int(a["numDigits"]) if "numDigits" in a else None
        params: dict[str, str] = {}
        if finish and finish in keys and (num is None or keys.index(finish) < num):
            digits = keys[:keys.index(finish)]
            params["FinishedOnKey"] = finish
        else:
            digits = keys[:num] if num else keys
        if not digits and not params:
            return None
        params["Digits"] = digits
        return params
    if isinstance(given, Speech) and "speech" in modes:
        return {"SpeechResult": given.text, "Confidence": f"{given.confidence:.2f}"}
    return None  # silence, or input the gather does not listen for


# -- what Twilio sends ------------------------------------------------------------------
# Twilio's StirVerstat when the carrier fully vouches for the caller ID (STIR/SHAKEN attestation A).
ATTESTED = "TN-Validation-Passed-A"


def call_params(call_sid: str, caller: str, to: str, account_sid: str, status: str = "in-progress",
                verstat: Optional[str] = None) -> dict[str, str]:
    """The fields Twilio posts with every request of an inbound call; `verstat` its StirVerstat
    (the carrier's STIR/SHAKEN verdict on the caller ID), absent when the carrier sent none."""
    params = {"CallSid": call_sid, "AccountSid": account_sid, "From": caller, "To": to, "Caller": caller,
              "Called": to, "CallStatus": status, "Direction": "inbound", "ApiVersion": "2010-04-01",
              "FromCountry": "IN", "ToCountry": "IN"}
    if verstat:
        params["StirVerstat"] = verstat
    return params


def hold_params(base: dict[str, str], position: int = 1, queue_seconds: int = 4) -> dict[str, str]:
    """A request for an <Enqueue> waitUrl."""
    return {**base, "QueuePosition": str(position), "QueueSid": "QU" + "2" * 32, "QueueTime": str(queue_seconds),
            "AvgQueueTime": "30", "CurrentQueueSize": str(position)}


def dequeue_params(base: dict[str, str], result: str = "hangup", queue_seconds: int = 9) -> dict[str, str]:
    """A request for an <Enqueue> action, when the caller leaves the queue."""
    return {**base, "QueueResult": result, "QueueSid": "QU" + "2" * 32, "QueueTime": str(queue_seconds)}


def status_params(base: dict[str, str], duration_seconds: int, call_status: str = "completed") -> dict[str, str]:
    """The call-status callback at the end of a call."""
    return {**base, "CallStatus": call_status, "CallDuration": str(max(1, duration_seconds)),
            "Timestamp": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
            "CallbackSource": "call-progress-events", "SequenceNumber": "0"}
