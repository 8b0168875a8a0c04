"""gunicorn's access log, written by a thread of its own: a request thread only queues the record.

With `--access-logfile -` every request thread formatted its line and wrote it to stdout under the
handler's lock, a system call per request on the request's own time (docs/benchmarks.md, issue #13).
Here the record goes on a queue and one listener thread per worker formats and writes it. Lines
are the same; the last ones are written when the worker exits (the listener is stopped at exit).
"""
from __future__ import annotations

import atexit
import logging
import queue
from logging.handlers import QueueHandler, QueueListener
from typing import Optional


class _Enqueue(QueueHandler):
    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # gunicorn's access record carries a fresh dict of strings per request: safe to format later,
        # in the listener's thread, by the handler that would have formatted it here.
        return record


class _Listener(QueueListener):
    def stop(self) -> None:
        if self._thread is not None:  # stopped already (Python 3.11's stop() is not idempotent)
            super().stop()


def defer(logger: logging.Logger) -> Optional[QueueListener]:
    """Move `logger`'s stream handlers behind a queue and a listener thread; returns the listener.

    File handlers are left where they are: gunicorn reopens those on SIGUSR1 (log rotation), and
    looks for them on the logger itself.
    """
    handlers = list(logger.handlers)
    if not handlers or any(isinstance(h, logging.FileHandler) for h in handlers):
        return None
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = _Listener(records, *handlers, respect_handler_level=True)
    for handler in handlers:
        logger.removeHandler(handler)
    logger.addHandler(_Enqueue(records))
    listener.start()
    atexit.register(listener.stop)
    return listener
