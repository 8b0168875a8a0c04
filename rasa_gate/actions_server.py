"""Start the action server behind its gate: `python -m rasa_gate.actions_server [rasa_sdk options]`.

Every request except GET /health must carry `Authorization: Bearer <ACTION_SERVER_TOKEN>`
(Rasa sends it: endpoints.yml `action_endpoint.headers`); anything else gets 401 before an
action runs. The server listens on ACTIONS_BIND_HOST (127.0.0.1 unless set). The gate is a
rasa_sdk plugin (its `attach_sanic_app_extensions` hook), registered here explicitly so that
it cannot be silently missing.
"""
from __future__ import annotations

import hmac
import os
from typing import Optional

import pluggy
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

hookimpl = pluggy.HookimplMarker("rasa_sdk")
OPEN_PATHS = frozenset({"/health"})  # liveness only: says nothing and runs nothing


def authorized(header: Optional[str], token: str) -> bool:
    scheme, _, given = (header or "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())


class TokenGate:
    """A rasa_sdk plugin that refuses requests without the action token."""

    def __init__(self, token: str) -> None:
        self.token = token

    @hookimpl
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        async def require_token(request: Request) -> Optional[HTTPResponse]:
            if request.path in OPEN_PATHS or authorized(request.headers.get("Authorization"), self.token):
                return None
            return response.json({"error": "action server token required"}, status=401)

        app.register_middleware(require_token, "request")


def main() -> None:
    token = os.environ.get("ACTION_SERVER_TOKEN", "")
    if not token:
        raise SystemExit("ACTION_SERVER_TOKEN must be set: refusing to start an open action server")
    # rasa_sdk reads its listening address from SANIC_HOST (default 0.0.0.0: every interface).
    os.environ["SANIC_HOST"] = os.environ.get("ACTIONS_BIND_HOST") or "127.0.0.1"
    from rasa_sdk.__main__ import main as sdk_main
    from rasa_sdk.plugin import plugin_manager

    plugin_manager().register(TokenGate(token))
    sdk_main()


if __name__ == "__main__":
    main()
