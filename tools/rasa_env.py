"""Print shell exports for one Rasa-side process: `eval "$(python tools/rasa_env.py rasa|actions)"`.

The Rasa server and the action server run in their own environment (.venv-rasa) and read their
settings from environment variables (credentials.yml, endpoints.yml, rasa_gate). This resolves
them from Orderline's Settings, so the development secrets in instance/dev-secrets.json and
`.env` apply to them as they do to the app, and gives each process only what it uses.
"""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orderline.settings import Settings  # noqa: E402
from tools.redis_env import redis_parts  # noqa: E402
from tools.tracker_env import prepare_tracker_store, tracker_parts  # noqa: E402

ROLES = ("rasa", "actions")


def rasa_side_env(settings: Settings, role: str) -> dict[str, str]:
    """The environment the `role` process needs (see docs/security.md for who holds which secret)."""
    if role == "rasa":
        return {**redis_parts(settings.redis_url), **tracker_parts(settings.database_url),
                "RASA_CHANNEL_SECRET": settings.rasa_channel_secret, "RASA_AUTH_TOKEN": settings.rasa_auth_token, "ACTION_SERVER_TOKEN": settings.action_server_token,
                "ACTION_ENDPOINT_URL": settings.action_endpoint_url, "RASA_BIND_HOST": settings.rasa_bind_host,
                "RASA_MODEL": settings.rasa_model, "ORDERLINE_MULTI_HOST": str(settings.orderline_multi_host).lower()}
    if role == "actions":
        return {"ACTION_SERVER_TOKEN": settings.action_server_token, "ACTIONS_BIND_HOST": settings.actions_bind_host,
                "API_TOKEN": settings.api_token, "ORDER_SERVICE_URL": settings.order_service_url}
    raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ROLES:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(ROLES)}")
    try:
        settings = Settings.from_env()
    except ValueError as exc:  # one line naming the variable, as the app's processes say it
        sys.exit(f"orderline: {exc}")
    if sys.argv[1] == "rasa":
        prepare_tracker_store(settings.database_url)  # the SQL tracker store's file or schema
    for key, value in rasa_side_env(settings, sys.argv[1]).items():
        print(f"export {key}={shlex.quote(value)}")
