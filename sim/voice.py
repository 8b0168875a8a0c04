"""The simulated phone: a call to the IVR, played one caller's turn at a time.

The call's state (the last TwiML document, where it waits, the queue) is kept in Redis
between the browser's turns. TwiML is played by `sim.twiml_walker`, the same walker the
scripted test caller uses, and every request is a signed POST to the real /twilio/voice.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable, Optional

import redis

from sim.app_client import AppClient, AppUnreachable
from sim.twiml_walker import (
    ATTESTED, HangUp, Input, Next, TwimlRejected, call_params, dequeue_params, hold_params, status_params, validate, walk)

VOICE_PATH, STATUS_PATH = "/twilio/voice", "/twilio/voice/status"
IVR_NUMBER = "+911140000000"
CALL_TTL = 2 * 3600  # seconds, like the IVR's own session
MAX_DOCS = 12  # documents fetched in one turn before the walk is declared a loop
TIMEOUT = 30.0  # a speech turn waits up to 8 s for the assistant


class CallNotFound(Exception):
    """No such simulated call (never started, or expired)."""


@dataclass
class SimCall:
    call_sid: str
    caller: str
    account_sid: str
    started: float
    state: str = "ringing"  # waiting (for the caller), queued, ended
    doc_url: str = ""
    twiml: str = ""
    waiting: Optional[int] = None  # index of the <Gather> waiting in `twiml`
    gather: dict[str, str] = field(default_factory=dict)
    ended: Optional[str] = None  # hangup, end, caller_hung_up, reject, dial, error
    queue: Optional[str] = None
    action_url: Optional[str] = None

    def params(self, status: str = "in-progress") -> dict[str, str]:
        # The simulated carrier vouches for the number typed at /try, so changes work as for a real A call.
        return call_params(self.call_sid, self.caller, IVR_NUMBER, self.account_sid, status, ATTESTED)


@dataclass
class Turn:
    """What the browser shows after one step: what was said, and what the call waits for."""

    call: SimCall
    said: list[dict[str, Optional[str]]] = field(default_factory=list)
    error: Optional[str] = None

    def to_json(self) -> dict[str, Any]:
        c = self.call
        return {"call_sid": c.call_sid, "state": c.state, "said": self.said, "ended": c.ended, "queue": c.queue,
                "gather": {k: c.gather.get(k) for k in ("input", "numDigits", "finishOnKey", "language")}
                if c.state == "waiting" else None, "error": self.error}


class CallStore:
    def __init__(self, cache: redis.Redis) -> None:
        self.cache = cache

    @staticmethod
    def key(call_sid: str) -> str:
        return f"sim:call:{call_sid}"

    def load(self, call_sid: str) -> SimCall:
        raw = self.cache.get(self.key(call_sid))
        if not raw:
            raise CallNotFound(call_sid)
        data = json.loads(raw)
        known = {f.name for f in fields(SimCall)}
        return SimCall(**{k: v for k, v in data.items() if k in known})

    def save(self, call: SimCall) -> None:
        self.cache.set(self.key(call.call_sid), json.dumps(asdict(call)), ex=CALL_TTL)


class Phone:
    """Places calls and plays the caller's answers against the app's IVR."""

    def __init__(self, client: AppClient, store: CallStore) -> None:
        self.client = client
        self.store = store

    def dial(self, phone: str) -> Turn:
        account = self.client.settings.twilio_account_sid or "AC" + "0" * 32
        call = SimCall("CA" + uuid.uuid4().hex, phone, account, time.time())
        url = self.client.settings.public_base_url.rstrip("/") + VOICE_PATH
        return self._run(call, lambda: self._fetch_and_walk(call, url, call.params("ringing")))

    def answer(self, call_sid: str, given: Input) -> Turn:
        """The caller's answer (keys, speech, silence or hanging up) to the <Gather> the call waits at."""
        call = self.store.load(call_sid)
        if call.state != "waiting":
            return Turn(call, error="the call is not waiting for an answer")
        if isinstance(given, HangUp):
            return self.hang_up(call_sid)
        return self._run(call, lambda: walk(call.twiml, call.doc_url, iter([given]), wait_for_input=True,
                                            resume_at=call.waiting))

    def hang_up(self, call_sid: str) -> Turn:
        """The caller hangs up: leave the queue if in it, then Twilio's status callback."""
        call = self.store.load(call_sid)
        if call.state == "ended":
            return Turn(call)
        try:
            if call.state == "queued" and call.action_url:
                self._request(call.action_url, dequeue_params(call.params()))
            self._finish(call, "caller_hung_up")
        except (AppUnreachable, TwimlRejected) as exc:
            call.state, call.ended = "ended", "error"
            self.store.save(call)
            return Turn(call, error=str(exc))
        self.store.save(call)
        return Turn(call)

    # -- internals ---------------------------------------------------------------------------
    def _run(self, call: SimCall, first: Callable[[], Next]) -> Turn:
        turn = Turn(call)
        try:
            self._play(call, first(), turn)
        except (AppUnreachable, TwimlRejected) as exc:
            call.state, call.ended, turn.error = "ended", "error", str(exc)
        self.store.save(call)
        return turn

    def _play(self, call: SimCall, nxt: Next, turn: Turn) -> None:
        for _ in range(MAX_DOCS):
            turn.said += [{"text": s.text, "language": s.language, "voice": s.voice} for s in nxt.said]
            if nxt.waiting is not None:
                call.state, call.waiting, call.gather = "waiting", nxt.waiting, nxt.gathers[-1]
                return
            if nxt.url:
                if nxt.method != "POST":
                    raise TwimlRejected(f"the simulator follows POST only, not {nxt.method} {nxt.url}")
                nxt = self._fetch_and_walk(call, nxt.url, {**call.params(), **nxt.params})
                continue
            if nxt.ended == "enqueue":
                call.state, call.queue, call.action_url, call.waiting = "queued", nxt.queue, nxt.action_url, None
                if nxt.wait_url:
                    hold = self._request(nxt.wait_url, hold_params(call.params()), wait_url=True)
                    turn.said += [{"text": s.text, "language": s.language, "voice": s.voice}
                                  for s in walk(hold, nxt.wait_url, iter(())).said]
                return
            self._finish(call, nxt.ended or "end")
            return
        raise TwimlRejected(f"the call did not settle within {MAX_DOCS} documents (a <Redirect> loop?)")

    def _fetch_and_walk(self, call: SimCall, url: str, params: dict[str, str]) -> Next:
        body = self._request(url, params)
        call.doc_url, call.twiml, call.waiting = url, body, None
        return walk(body, url, iter(()), wait_for_input=True)

    def _request(self, url: str, params: dict[str, str], wait_url: bool = False) -> str:
        reply = self.client.twilio_url(url, params, TIMEOUT)
        if reply.status != 200:
            raise AppUnreachable(f"{url} answered HTTP {reply.status}: {reply.body[:200]}")
        if "xml" not in reply.content_type:
            raise TwimlRejected(f"{url} answered {reply.content_type!r}, not TwiML")
        validate(reply.body, wait_url=wait_url)
        return reply.body

    def _finish(self, call: SimCall, reason: str) -> None:
        call.state, call.ended, call.waiting = "ended", reason, None
        url = self.client.settings.public_base_url.rstrip("/") + STATUS_PATH
        self._request(url, status_params(call.params(), int(time.time() - call.started)))
