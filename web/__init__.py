"""HTTP adapters around the domain core: the app factory and its blueprints."""
from __future__ import annotations

import logging
from typing import Optional

from flask import Flask

from orderline.settings import Settings
from web.services import Services
from web.sessions import BrowserSessions


def create_app(settings: Optional[Settings] = None, services: Optional[Services] = None) -> Flask:
    """Build the Orderline web app. Settings come from the environment unless given."""
    settings = settings or Settings.from_env()
    app = Flask("orderline", instance_path=str(settings_instance_path()))
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=1024 * 1024, JSON_SORT_KEYS=False)
    app.extensions["orderline"] = services or Services.build(settings)
    app.session_interface = BrowserSessions()

    from web import api, cli, health, shiprocket

    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(shiprocket.bp)
    from bot import whatsapp
    app.register_blueprint(whatsapp.bp)
    from console import bp as console_bp  # also adds `flask agents ...` (bp.cli)
    app.register_blueprint(console_bp)
    import ivr
    app.register_blueprint(ivr.bp)
    import sim  # the customer simulator at /try (404 unless enabled)
    app.register_blueprint(sim.bp)
    cli.register(app)
    register_json_errors(app)

    if settings.api_token_generated:
        logging.getLogger("orderline").warning(
            "API_TOKEN not set; using the generated development token from instance/dev-secrets.json")
    return app


def settings_instance_path() -> str:
    from orderline.settings import ROOT

    return str(ROOT / "instance")


def register_json_errors(app: Flask) -> None:
    """Machine clients (/api, /webhooks) get JSON errors even for unmatched routes."""
    from flask import request
    from werkzeug.exceptions import HTTPException

    from web.jsonapi import error

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if request.path.startswith(("/api/", "/webhooks/")):
            return error(exc.code or 500, exc.name.lower().replace(" ", "_"), exc.description or exc.name)
        return exc
