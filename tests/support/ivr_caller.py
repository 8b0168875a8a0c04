"""A scripted phone caller that behaves like Twilio Voice, for tests and benchmarks.

The pure layers, `validate(twiml)` and `walk(twiml, doc_url, inputs)`, live in
`sim.twiml_walker` and are shared with the browser simulator at /try; they are re-exported
here. `ScriptedCaller` drives a whole call over a transport (Flask test client or HTTP),
signing every request with X-Twilio-Signature like Twilio does. Also the IVR suite's account.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence, Union
from urllib.parse import urlsplit

from sim.twiml_walker import (  # noqa: F401  (re-exported for the tests)
    ATTESTED, HangUp, Input, Keys, Next, Said, Silence, Speech, TwimlRejected, call_params, dequeue_params, hold_params,
    status_params, validate, walk)
from edge.twilio_auth import sign

# The IVR suite's Twilio account and public URL, and a caller the store does not know.
TWILIO_SID, TWILIO_TOKEN = "AC" + "5" * 32, "ivr-test-token"
PUBLIC = "https://voice.example.test"
UNKNOWN = "+919812345678"

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
                 voice_url: str = "/twilio/voice", status_url: str = "/twilio/voice/status",
                 verstat: Optional[str] = ATTESTED) -> None:
        """`verstat`: the StirVerstat Twilio posts with the call (None: the carrier sent no attestation)."""
        self.transport = transport
        self.token = auth_token
        self.base = public_base_url.rstrip("/")
        self.caller, self.to, self.account_sid = caller, to, account_sid
        self.call_sid = call_sid or "CA" + uuid.uuid4().hex
        self.voice_url, self.status_url = voice_url, status_url
        self.verstat = verstat
        self.started = time.monotonic()

    def base_params(self, status: str = "in-progress") -> dict[str, str]:
        return call_params(self.call_sid, self.caller, self.to, self.account_sid, status, self.verstat)

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
            call.hold = self.request(nxt.wait_url, hold_params(self.base_params(), position=2), "hold", wait_url=True)
            call.hold.said = walk(call.hold.body, nxt.wait_url, iter(())).said
        if hang_up and nxt.action_url:
            call.docs.append(self.request(nxt.action_url, dequeue_params(self.base_params()), "dequeued"))

    def status(self, call_status: str = "completed") -> Doc:
        params = status_params(self.base_params(), int(time.monotonic() - self.started), call_status)
        return self.request(self.base + self.status_url, params, "status")
