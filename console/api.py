"""The console's JSON API under /agent/api (session + X-CSRFToken), and its live event stream."""
from __future__ import annotations

import json
import logging
import time
from functools import partial
from typing import Any, Callable, Iterator

import redis
from flask import Response, abort, current_app, jsonify, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from console import actions, bp, order_actions, streams
from console.auth import is_api, throttled
from console.queue import queue_items
from orderline.conversations import events_channel
from orderline.escalations import REASONS
from orderline.phones import InvalidPhone, normalise_phone
from edge.jsonapi import BadJson, error, json_body, plain
from console.deps import deps

log = logging.getLogger(__name__)
STATUS = {"not_found": 404, "invalid": 422, "conflict": 409, "not_allowed": 409, "refused": 409,
          "failed": 502, "retrying": 202}


@bp.get("/api/queue")
def api_queue():
    reason = request.args.get("reason") or None
    if reason not in (None, *REASONS):
        return error(422, "validation_error", "reason is one of " + ", ".join(REASONS))
    items = [dict(plain(e), url=url_for("console.conversation", phone=e.phone)) for e in queue_items(deps(), reason)]
    return jsonify(escalations=items, agent=current_user.name)


@bp.get("/api/conversations/<phone>")
def api_conversation(phone: str):
    phone = _phone(phone)
    svc = deps()
    return jsonify(phone=phone, state=svc.conversations.state(phone), escalation=plain(actions.latest_escalation(svc, phone)),
                   transcript=svc.conversations.transcript(phone))


@bp.post("/api/escalations/<int:esc_id>/claim")
def api_claim(esc_id: int):
    return _answer(actions.claim(deps(), current_user, esc_id, takeover=bool(json_body().get("takeover"))))


@bp.post("/api/conversations/<phone>/reply")
@throttled
def api_reply(phone: str):
    return _answer(actions.reply(deps(), current_user, _phone(phone), str(json_body().get("text") or "")))


@bp.post("/api/conversations/<phone>/note")
def api_note(phone: str):
    return _answer(actions.note(deps(), current_user, _phone(phone), str(json_body().get("text") or "")))


@bp.post("/api/conversations/<phone>/orders/<ref>/<action>")
@throttled
def api_order_action(phone: str, ref: str, action: str):
    """JSON twin of the order panel's forms; the body holds the form's fields."""
    body = {k: v for k, v in json_body().items() if isinstance(v, str)}
    return _answer(order_actions.act(deps(), current_user, _phone(phone), ref, action, body))


@bp.post("/api/escalations/<int:esc_id>/assign")
@throttled
def api_assign(esc_id: int):
    return _answer(order_actions.reassign(deps(), current_user, esc_id, str(json_body().get("agent") or "")))


@bp.get("/api/canned-replies")
def api_canned_replies():
    return jsonify(replies=[{"title": r.title, "text": r.text} for r in deps().canned_replies()])


@bp.post("/api/escalations/<int:esc_id>/resolve")
def api_resolve(esc_id: int):
    return _answer(actions.resolve(deps(), current_user, esc_id, "resolved"))


@bp.post("/api/escalations/<int:esc_id>/handback")
def api_hand_back(esc_id: int):
    return _answer(actions.resolve(deps(), current_user, esc_id, "handed_back"))


@bp.get("/api/events")
def api_events():
    """Server-Sent Events relayed from Redis pub/sub.

    The stream ends after CONSOLE_SSE_MAX_SECONDS so it never pins a worker thread for good;
    EventSource reconnects by itself. A comment every CONSOLE_SSE_HEARTBEAT seconds keeps
    proxies from closing it and lets the server notice a client that went away. Streams are
    capped per agent and per process (`console.streams`).
    """
    config = current_app.config
    give_back = streams.process_slot(current_app)
    if give_back is None:
        log.warning("console event streams: all %s of this process's slots are taken", config["CONSOLE_SSE_PER_PROCESS"])
        body, status = error(503, "too_many_streams", "too many live connections; the page will try again")
        return body, status, {"Retry-After": "30"}
    cache = deps().redis
    heartbeat = float(config["CONSOLE_SSE_HEARTBEAT"])
    max_seconds = float(config["CONSOLE_SSE_MAX_SECONDS"])
    mine = streams.AgentStreams(cache, current_user.id, int(config["CONSOLE_SSE_PER_AGENT"]), max_seconds)
    pubsub = cache.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(events_channel(cache))
        stream = mine.open()
    except redis.RedisError as exc:
        pubsub.close()
        give_back()
        log.warning("console events unavailable: %s", exc)
        return error(503, "events_unavailable", "live updates are unavailable (Redis)")
    response = Response(relay(pubsub, heartbeat, max_seconds, partial(mine.is_open, stream)),
                        mimetype="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    for done in (pubsub.close, partial(mine.close, stream), give_back):
        response.call_on_close(done)
    return response


def relay(pubsub: Any, heartbeat: float, max_seconds: float, still_open: Callable[[], bool] = lambda: True
          ) -> Iterator[str]:
    """The stream's frames until `max_seconds`, Redis is lost, or a newer tab of the agent's takes its place."""
    started = last = time.monotonic()
    try:
        yield "retry: 3000\n: connected\n\n"
        while time.monotonic() - started < max_seconds:
            try:
                if not still_open():
                    # The browser must not reconnect at once and evict the newer tab in turn.
                    yield "event: evicted\ndata: {}\n\n"
                    return
                msg = pubsub.get_message(timeout=min(1.0, heartbeat))
            except redis.RedisError as exc:
                log.warning("console event stream lost Redis: %s", exc)
                return
            now = time.monotonic()
            if msg and msg.get("type") == "message":
                data = event_data(msg["data"])
                if data is not None:
                    last = now
                    yield f"data: {data}\n\n"
            elif now - last >= heartbeat:
                last = now
                yield ": heartbeat\n\n"
    finally:
        pubsub.close()


def event_data(raw: Any) -> str | None:
    """One line of JSON, or None for anything that is not an event object."""
    try:
        event = json.loads(raw)
    except (TypeError, ValueError):
        return None
    return json.dumps(event, separators=(",", ":")) if isinstance(event, dict) and "type" in event else None


@bp.errorhandler(HTTPException)
def on_http_error(exc: HTTPException):
    if is_api():
        return error(exc.code or 500, exc.name.lower().replace(" ", "_"), exc.description or exc.name)
    return exc


@bp.errorhandler(BadJson)
def on_bad_json(_exc: BadJson):
    return error(400, "bad_json", "the body must be a JSON object")


def _answer(outcome: actions.Outcome):
    return jsonify(outcome.as_json()), 200 if outcome.ok else STATUS.get(outcome.result, 400)


def _phone(raw: str) -> str:
    try:
        return normalise_phone(raw)
    except InvalidPhone:
        abort(404)
