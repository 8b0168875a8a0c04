"""Background jobs run by the RQ worker (`rq worker orderline`, started by `make run`)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def worker_services() -> Any:
    """The worker process's services, built once from the environment."""
    from orderline.settings import Settings
    from web.services import Services

    return Services.build(Settings.from_env())


def deliver_message(message_id: int) -> str:
    """Send (or retry) one queued outbound message."""
    return worker_services().sender.deliver(message_id).status
