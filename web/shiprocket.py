"""Shiprocket's tracking webhook: authenticated by a shared token, durable, quick.

An event is checked (token, payload shape) and appended to the tracking inbox, and the
answer is 200 as soon as it is committed; the RQ worker applies it to the order moments later
(`orderline/inbox.py`). Shiprocket retries anything but a 200, so a 200 means "stored", and
repeats are harmless: applying an event twice changes nothing.
"""
from __future__ import annotations

import hmac
import json

from flask import Blueprint, request

from orderline.errors import InvalidInput
from edge.jsonapi import error, json_bytes
from edge import deps as adapter_deps
from web.deps import CourierWebhookDeps

bp = Blueprint("shiprocket", __name__, url_prefix="/webhooks")
SOURCE = "shiprocket"  # the inbox reads these events with the parser given for this source


@bp.post("/shiprocket")
# Shiprocket refuses callback URLs containing "shiprocket", "sr" or "kr"; this alias is the one to
# paste into its panel.
@bp.post("/courier-tracking")
def tracking_update():
    svc: CourierWebhookDeps = adapter_deps.of(bp)
    expected = svc.shiprocket_token
    given = request.headers.get("x-api-key", "")
    if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
        return error(401, "unauthorized", "missing or wrong x-api-key")
    try:
        text = request.get_data().decode("utf-8")  # read once: parsed here, stored as it came
        payload = json.loads(text)
    except ValueError:  # not UTF-8, or not JSON
        return error(400, "bad_json", "the body is not UTF-8 JSON")
    try:
        svc.inbox.parse(SOURCE, payload)
    except InvalidInput as exc:
        return error(400, exc.code, exc.message, fields=exc.fields)
    inbox_id = svc.inbox.accept(text, SOURCE)  # committed; the worker is woken to apply it
    # 200 even for shipments we may not know: Shiprocket keeps retrying anything else.
    return json_bytes(b'{"status":"accepted","id":%d}' % inbox_id)
