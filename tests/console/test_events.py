"""The live event stream: Redis pub/sub relayed as Server-Sent Events, bounded and with heartbeats."""
from __future__ import annotations

import json
import time

from console.api import event_data
from orderline.conversations import events_channel


def read_until(chunks, predicate, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    seen = ""
    for chunk in chunks:
        seen += chunk.decode() if isinstance(chunk, bytes) else chunk
        if predicate(seen):
            return seen
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"not seen in time; got {seen[-500:]!r}")


def events_in(text: str) -> list[dict]:
    return [json.loads(line[len("data: "):]) for line in text.splitlines() if line.startswith("data: ")]


def test_new_escalations_arrive_on_the_stream(app, as_asha, open_escalation):
    app.config["CONSOLE_SSE_MAX_SECONDS"] = 20
    resp = as_asha.get("/agent/api/events", buffered=False)
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
    assert resp.headers["Cache-Control"] == "no-cache"
    chunks = iter(resp.response)
    assert next(chunks).startswith(b"retry: ")
    esc = open_escalation()  # publishes on the real Redis after the page subscribed
    seen = read_until(chunks, lambda s: any(e.get("type") == "escalation" and e.get("id") == esc.id
                                            and e.get("phone") == esc.phone for e in events_in(s)))
    # Other tests using this Redis database share the channel; ours is there with its reason and priority.
    ours = [e for e in events_in(seen) if e.get("type") == "escalation" and e.get("id") == esc.id
            and e.get("phone") == esc.phone]
    assert ours[0]["reason"] == "payments" and ours[0]["priority"] == 1
    resp.close()


def test_stream_sends_heartbeats_and_ends_by_itself(app, as_asha):
    app.config.update(CONSOLE_SSE_HEARTBEAT=0.2, CONSOLE_SSE_MAX_SECONDS=1.5)
    started = time.monotonic()
    resp = as_asha.get("/agent/api/events", buffered=False)
    body = b"".join(resp.response).decode()
    elapsed = time.monotonic() - started
    assert ": heartbeat" in body
    assert 1.5 <= elapsed < 4, elapsed  # bounded: EventSource reconnects; no worker is held for good


def test_only_event_objects_are_relayed(services):
    assert event_data(b'{"type":"message","phone":"+919000000001"}') == '{"type":"message","phone":"+919000000001"}'
    assert event_data(b"not json") is None
    assert event_data(b"[1,2]") is None
    assert event_data(b'{"no":"type"}') is None
    assert event_data(b'{"type":"x","text":"line\\nbreak"}').count("\n") == 0  # cannot split an SSE frame
    services.redis.publish(events_channel(services.redis), "garbage")  # must not break a live stream either


def test_an_agents_newest_streams_win(app, as_asha):
    """Past CONSOLE_SSE_PER_AGENT (3) the oldest stream is told it was replaced and ends by itself."""
    app.config["CONSOLE_SSE_MAX_SECONDS"] = 20
    tabs = [as_asha.get("/agent/api/events", buffered=False) for _ in range(4)]
    assert [t.status_code for t in tabs] == [200] * 4
    started = time.monotonic()
    oldest = b"".join(tabs[0].response).decode()  # ends well before max seconds
    assert "event: evicted" in oldest and time.monotonic() - started < 5
    newest = iter(tabs[3].response)
    assert next(newest).startswith(b"retry: ")
    assert read_until(newest, lambda s: ": heartbeat" in s or "data:" in s, timeout=20)  # still live
    for tab in tabs:
        tab.close()


def test_each_process_holds_only_so_many_streams(app, as_asha, as_ravi):
    app.config.update(CONSOLE_SSE_PER_PROCESS=2, CONSOLE_SSE_MAX_SECONDS=20)
    first = as_asha.get("/agent/api/events", buffered=False)
    second = as_ravi.get("/agent/api/events", buffered=False)
    refused = as_ravi.get("/agent/api/events", buffered=False)
    assert (first.status_code, second.status_code) == (200, 200)
    assert refused.status_code == 503 and refused.json["error"] == "too_many_streams"
    assert refused.headers["Retry-After"] == "30"
    first.close()  # a tab closes: its slot is free again
    again = as_asha.get("/agent/api/events", buffered=False)
    assert again.status_code == 200
    for resp in (second, again):
        resp.close()
