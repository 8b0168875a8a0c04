"""Small helpers shared by the JSON endpoints: body parsing and error mapping."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from flask import Response, current_app, jsonify, request

from orderline.errors import DomainError, InvalidInput, OrderNotFound, RuleViolation


class BadJson(Exception):
    pass


def json_body() -> dict[str, Any]:
    """The request's JSON object; BadJson when it is not valid JSON or not an object."""
    data = request.get_json(silent=True, force=True) if request.get_data(cache=True) else {}
    if not isinstance(data, dict):
        raise BadJson()
    return data


def json_bytes(body: bytes, status: int = 200) -> Response:
    """A response for a body that is already JSON (e.g. from the order cache)."""
    return current_app.response_class(body, status=status, mimetype="application/json")


def plain(value: Any) -> Any:
    """A core result (dataclasses, datetimes, lists and dicts of them) as JSON-ready values; times in ISO 8601."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def error(http_status: int, code: str, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify(error=code, message=message, **extra), http_status


def domain_error(exc: DomainError) -> tuple[Response, int]:
    if isinstance(exc, OrderNotFound):
        return error(404, exc.code, "no such order")
    if isinstance(exc, InvalidInput):
        return error(422, exc.code, exc.message, fields=exc.fields)
    if isinstance(exc, RuleViolation):
        return error(409, exc.code, exc.reason, reason=exc.reason, **{k: v for k, v in exc.details.items() if k != "reason"})
    return error(400, exc.code, exc.message)
