"""Liveness and readiness."""
from __future__ import annotations

import ipaddress

from flask import Blueprint, jsonify, request
from sqlalchemy import text

from edge import deps as adapter_deps
from web.bearer import bearer_ok
from web.deps import HealthDeps

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready or not for everyone (load balancers need only the status code); which component is
    failing, and how, only for the internal network or with the API token."""
    svc: HealthDeps = adapter_deps.of(bp)
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
    checks["rasa"] = "ok" if svc.assistant_ready() else "error: not answering"
    ready = all(v == "ok" for v in checks.values())
    body: dict[str, object] = {"status": "ready" if ready else "not_ready"}
    if internal(request.remote_addr) or bearer_ok(svc.api_token):
        body["checks"] = checks
    return jsonify(body), 200 if ready else 503


def internal(address: str | None) -> bool:
    """A loopback or private address (behind a proxy: see TRUSTED_PROXIES)."""
    try:
        return ipaddress.ip_address(address or "").is_private
    except ValueError:
        return False
