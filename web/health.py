"""Liveness and readiness."""
from __future__ import annotations

import requests
from flask import Blueprint, jsonify
from sqlalchemy import text

from web.services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    svc = services()
    checks: dict[str, str] = {}
    try:
        with svc.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports, it never raises
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        svc.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    try:
        resp = requests.get(svc.settings.rasa_url.rstrip("/") + "/", timeout=1.5)
        checks["rasa"] = "ok" if resp.ok else f"error: HTTP {resp.status_code}"
    except requests.RequestException as exc:
        checks["rasa"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ready" if ready else "not_ready", checks=checks), 200 if ready else 503
