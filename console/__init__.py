"""The agent console: a signed-in web page over the escalation queue and conversations.

Registering `bp` sets up Flask-Login and Flask-WTF's CSRF protection on the app. CSRF is
checked only for this blueprint: the machine endpoints (/api/v1 with a bearer token,
/twilio/* with Twilio's signature) authenticate differently and must not need a token.
`bp.cli` is the `flask agents ...` command group.
"""
from __future__ import annotations

from flask import Blueprint, Flask
from flask.blueprints import BlueprintSetupState
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

bp = Blueprint("console", __name__, url_prefix="/agent", template_folder="templates",
               static_folder="static", static_url_path="/static", cli_group="agents")
login_manager = LoginManager()
csrf = CSRFProtect()


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    app: Flask = state.app
    # Only the console's own requests are checked (see console.auth.guard); the app-wide
    # default would demand a token from Twilio and API clients too.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    if not app.config.get("SESSION_COOKIE_SAMESITE"):  # Flask's default is None (no attribute)
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config.setdefault("CONSOLE_SSE_HEARTBEAT", 15.0)
    app.config.setdefault("CONSOLE_SSE_MAX_SECONDS", 300.0)
    # Live streams hold a server thread each: a few per agent (the newest win), and a ceiling per
    # process that leaves the rest of gunicorn's threads to the webhooks (see console.streams).
    app.config.setdefault("CONSOLE_SSE_PER_AGENT", 3)
    app.config.setdefault("CONSOLE_SSE_PER_PROCESS", 8)
    csrf.init_app(app)
    login_manager.init_app(app)


from console import api, auth, cli, headers, insights, views  # noqa: E402,F401  (routes register on bp)

__all__ = ["bp"]
