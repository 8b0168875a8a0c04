"""A scripted phone caller that behaves like Twilio Voice, for tests, benchmarks and simulators.

Three layers, usable on their own:
- `validate(twiml)` rejects what Twilio would reject: a root other than <Response>, documents
  of 64 kB or more, unknown verbs or nouns, unknown attributes (allow-lists from Twilio's TwiML
  docs), bad attribute values, and `speechTimeout="auto"` together with a `speechModel`.
- `walk(twiml, doc_url, inputs)` is pure: it plays one document against the caller's next
  inputs and says what Twilio would do next (request a URL with which parameters, queue the
  call, dial, hang up). It resolves relative URLs, follows <Gather> semantics (numDigits,
  finishOnKey, input types) and the no-input fall-through to the next verb unless
  `actionOnEmptyResult="true"`.
- `ScriptedCaller` drives a whole call over a transport (Flask test client or HTTP), signing
  every request with X-Twilio-Signature like Twilio does.
"""
from __future__ import annotations

import re
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional, Sequence, Union
from urllib.parse import urljoin, urlsplit

from web.twilio_auth import sign

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


def walk(twiml: str, doc_url: str, inputs: Iterator[Input]) -> Next:
    """Play one validated document; consume one input per <Gather> reached."""
    root = validate(twiml)
    out = Next()
    for verb in root:
        tag, a = verb.tag, verb.attrib
        if tag == "Say":
            out.said.append(Said((verb.text or "").strip(), a.get("language"), a.get("voice")))
        elif tag in ("Play", "Pause"):
            continue
        elif tag == "Gather":
            out.gathers.append(dict(a))
            for child in verb:
                if child.tag == "Say":
                    out.said.append(Said((child.text or "").strip(), child.get("language"), child.get("voice")))
            given = next(inputs, HangUp())
            out.consumed += 1
            result = _gather(a, given)
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
            raise TwimlRejected(f"the scripted caller cannot play <{tag}>")
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


# -- a whole call ---------------------------------------------------------------------
Transport = Callable[[str, dict[str, str], dict[str, str]], tuple[int, str, str]]


def flask_transport(client) -> Transport:
    def post(path: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, str, str]:
        resp = client.post(path, data=params, headers=headers)
        return resp.status_code, resp.content_type or "", resp.get_data(as_text=True)

    return post


def http_transport(base_url: str, session=None, timeout: float = 20.0) -> Transport:
    import requests

    http = session or requests.Session()

    def post(path: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, str, str]:
        resp = http.post(base_url.rstrip("/") + path, data=params, headers=headers, timeout=timeout)
        return resp.status_code, resp.headers.get("Content-Type", ""), resp.text

    return post


@dataclass
class Doc:
    url: str
    kind: str
    params: dict[str, str]
    status: int
    body: str
    seconds: float
    said: list[Said] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.said)


@dataclass
class Call:
    docs: list[Doc] = field(default_factory=list)
    ended: Optional[str] = None
    queue: Optional[str] = None
    hold: Optional[Doc] = None

    @property
    def said(self) -> list[Said]:
        return [s for d in self.docs for s in d.said]

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.said)


class ScriptedCaller:
    def __init__(self, transport: Transport, auth_token: str, public_base_url: str, caller: str,
                 to: str = "+911140000000", account_sid: str = "AC" + "1" * 32, call_sid: Optional[str] = None,
                 voice_url: str = "/twilio/voice", status_url: str = "/twilio/voice/status") -> None:
        self.transport = transport
        self.token = auth_token
        self.base = public_base_url.rstrip("/")
        self.caller, self.to, self.account_sid = caller, to, account_sid
        self.call_sid = call_sid or "CA" + uuid.uuid4().hex
        self.voice_url, self.status_url = voice_url, status_url
        self.started = time.monotonic()

    def base_params(self, status: str = "in-progress") -> dict[str, str]:
        return {"CallSid": self.call_sid, "AccountSid": self.account_sid, "From": self.caller, "To": self.to,
                "Caller": self.caller, "Called": self.to, "CallStatus": status, "Direction": "inbound",
                "ApiVersion": "2010-04-01", "FromCountry": "IN", "ToCountry": "IN"}

    def request(self, url: str, params: dict[str, str], kind: str, wait_url: bool = False) -> Doc:
        """POST to an absolute public URL, signed; check the answer is valid TwiML."""
        if not url.startswith(self.base + "/"):
            raise TwimlRejected(f"cannot follow {url!r}: not under {self.base}")
        split = urlsplit(url)
        path = split.path + (f"?{split.query}" if split.query else "")
        headers = {"X-Twilio-Signature": sign(self.token, url, params)}
        t0 = time.perf_counter()
        status, content_type, body = self.transport(path, params, headers)
        seconds = time.perf_counter() - t0
        doc = Doc(url, kind, dict(params), status, body, seconds)
        if status != 200:
            raise TwimlRejected(f"{path} answered HTTP {status}: {body[:200]}")
        if "xml" not in content_type:
            raise TwimlRejected(f"{path} answered {content_type!r}, not XML")
        validate(body, wait_url=wait_url)
        return doc

    def call(self, script: Sequence[Input], max_docs: int = 40, hold: bool = True, hang_up_in_queue: bool = True,
             think: Union[float, Callable[[], float]] = 0.0) -> Call:
        """Place the call and play `script`; the caller hangs up when the script runs out.

        `think` seconds (or a function giving them) pass between documents, standing in for the
        prompt being played and the caller answering (a real call spends seconds there; tests use 0).
        """
        inputs = iter(script)
        call = Call()
        url, params, kind = self.base + self.voice_url, self.base_params("ringing"), "incoming"
        for _ in range(max_docs):
            doc = self.request(url, params, kind)
            call.docs.append(doc)
            nxt = walk(doc.body, url, inputs)
            doc.said = nxt.said
            if nxt.url is None:
                call.ended, call.queue = nxt.ended, nxt.queue
                if nxt.ended == "enqueue":
                    self._queued(call, nxt, hold, hang_up_in_queue)
                break
            url, params, kind = nxt.url, {**self.base_params(), **nxt.params}, nxt.kind
            pause = think() if callable(think) else think
            if pause:
                time.sleep(pause)
        else:
            raise TwimlRejected(f"call did not end within {max_docs} documents")
        self.status()
        return call

    def _queued(self, call: Call, nxt: Next, hold: bool, hang_up: bool) -> None:
        if hold and nxt.wait_url:
            params = {**self.base_params(), "QueuePosition": "2", "QueueSid": "QU" + "2" * 32, "QueueTime": "4",
                      "AvgQueueTime": "30", "CurrentQueueSize": "2", "QueueResult": ""}
            params.pop("QueueResult")
            call.hold = self.request(nxt.wait_url, params, "hold", wait_url=True)
            call.hold.said = walk(call.hold.body, nxt.wait_url, iter(())).said
        if hang_up and nxt.action_url:
            params = {**self.base_params(), "QueueResult": "hangup", "QueueSid": "QU" + "2" * 32, "QueueTime": "9"}
            call.docs.append(self.request(nxt.action_url, params, "dequeued"))

    def status(self, call_status: str = "completed") -> Doc:
        duration = str(max(1, int(time.monotonic() - self.started)))
        params = {**self.base_params(call_status), "CallDuration": duration, "Timestamp": time.strftime(
            "%a, %d %b %Y %H:%M:%S +0000", time.gmtime()), "CallbackSource": "call-progress-events",
            "SequenceNumber": "0"}
        return self.request(self.base + self.status_url, params, "status")
