"""Store what the assistant understood in a customer's message, for the operations dashboard.

Rasa's REST channel answers with the bot's messages only, so after a turn the text's parse is
asked for (`Assistant.parse`) and written onto the inbound message. This is
bookkeeping: it must never delay or break a reply, nor hold a web worker's thread. So in a web
process it runs on a small pool of background threads of its own, fed through a bounded queue;
when the queue is full (Rasa overloaded) the intent is dropped and logged, not waited for.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
from typing import Any, Callable, Optional

from flask import has_request_context

from orderline.ports import Assistant, Parse
from orderline.conversations import ConversationStore

log = logging.getLogger(__name__)
# A loaded Rasa can take seconds to answer even this small request; only a background thread waits.
PARSE_TIMEOUT = 5.0
THREADS = 4
QUEUE_LIMIT = 500

_work: "queue.Queue[Callable[[], Any]]" = queue.Queue(maxsize=QUEUE_LIMIT)
_lock = threading.Lock()
_started_in: Optional[int] = None  # the pid that owns the threads (gunicorn forks workers)


def record_parse(rasa: Assistant, store: ConversationStore, message_id: int, sender: str, text: str,
                 timeout: float = PARSE_TIMEOUT) -> Optional[Parse]:
    """Ask the assistant what `text` (what `sender` said in `message_id`) means, and store it there.

    The parse of the text itself, not the tracker's latest message: it costs the same however long
    the sender's history, and a customer's next message racing in cannot lend it its intent.
    """
    parse = rasa.parse(text, timeout=timeout)
    if parse is None:
        log.info("no parse for message %s from %s; intent not recorded", message_id, sender)
        return None
    store.set_intent(message_id, parse.intent, parse.confidence)
    return parse


def after_response(work: Callable[[], Any]) -> None:
    """Run `work` in the background when serving a request, at once otherwise (RQ jobs, scripts).

    Failures are logged and swallowed: the customer's reply must never depend on bookkeeping.
    """
    if not has_request_context():
        _safely(work)
        return
    _ensure_threads()
    try:
        _work.put_nowait(work)
    except queue.Full:
        log.warning("intent recording is %d turns behind; this turn's intent is not recorded", QUEUE_LIMIT)


def drain(timeout: float = 5.0) -> bool:
    """Wait until the background work queued so far is done (tests, benchmarks). False on timeout."""
    deadline = time.monotonic() + timeout
    while _work.unfinished_tasks:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def _ensure_threads() -> None:
    global _started_in
    if _started_in == os.getpid():
        return
    with _lock:
        if _started_in != os.getpid():
            for i in range(THREADS):
                threading.Thread(target=_worker, name=f"intents-{i}", daemon=True).start()
            _started_in = os.getpid()


def _worker() -> None:
    while True:
        work = _work.get()
        try:
            _safely(work)
        finally:
            _work.task_done()


def _safely(work: Callable[[], Any]) -> None:
    try:
        work()
    except Exception:
        log.exception("recording the assistant's intent failed")
