"""The web app factory: every HTTP adapter, each with its own collaborators."""
from __future__ import annotations

import logging
from functools import partial
from typing import Optional

from flask import Flask, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import console
import ivr
import sim
from bot import routing, whatsapp
from console import canned
from console.deps import ConsoleDeps
from edge import twilio_auth
from edge.deps import install
from edge.jsonapi import error
from edge.sessions import BrowserSessions
from ivr.agent_line import AgentGate
from ivr.config import voice_config
from ivr.runner import Collaborators
from ivr.session import SessionStore
from messaging import webhooks as message_status
from orderline.assignment import Assignments
from orderline.customers import remember_language
from orderline.settings import ROOT, Settings
from sim.deps import SimDeps
from web import api, health, shiprocket, stores
from web.deps import ApiDeps, CourierWebhookDeps, HealthDeps, StoreWebhookDeps
from wiring import cli
from wiring.services import Services


def create_app(settings: Optional[Settings] = None, services: Optional[Services] = None) -> Flask:
    """Build the Orderline web app. Settings come from the environment unless given."""
    settings = settings or Settings.from_env()
    svc = services or Services.build(settings)
    app = Flask("orderline", instance_path=str(ROOT / "instance"))
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=1024 * 1024, JSON_SORT_KEYS=False,
                      SESSION_COOKIE_SECURE=settings.production)  # sign-in cookies over HTTPS only
    if settings.trusted_proxies:
        # The console's sign-in throttle and /readyz go by the client's address, which a proxy
        # puts in X-Forwarded-For; only the hops we trust are believed.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]
    app.session_interface = BrowserSessions()
    twilio_auth.configure(app, settings.twilio_auth_token, settings.public_base_url)

    install(app, health.bp, HealthDeps(svc.engine, svc.redis, svc.rasa.status, settings.api_token))
    install(app, api.bp, ApiDeps(settings.api_token, svc.orders, svc.order_reads, svc.escalations, svc.clock,
                                   svc.ownership, svc.codes))
    install(app, shiprocket.bp, CourierWebhookDeps(settings.shiprocket_webhook_token, svc.inbox))
    install(app, stores.bp, StoreWebhookDeps(settings.shopify_webhook_secret, settings.woocommerce_webhook_secret,
                                             svc.inbox, svc.redis))
    install(app, whatsapp.bp, svc.whatsapp)
    install(app, message_status.bp, svc.sender)
    install(app, console.bp, ConsoleDeps(svc.sessions, svc.clock, svc.escalations, svc.conversations, svc.orders,
                                         svc.sender, svc.notifier, svc.handback, svc.redis, svc.engine,
                                         Assignments(svc.sessions, svc.clock),
                                         partial(canned.load, settings.canned_replies_path),
                                         svc.courier_outbox, settings.template_map.get("agent_reply"),
                                         svc.ownership.locked_until))
    voice = voice_config(settings)
    install(app, ivr.bp, Collaborators(svc.orders, svc.conversations, svc.escalations, svc.rasa, svc.handback, svc.sender,
                                       SessionStore(svc.redis), svc.clock, voice,
                                       partial(remember_language, svc.sessions),
                                       AgentGate.of(svc.redis, voice.agent_pin, voice.agent_numbers),
                                       svc.ownership, svc.codes))
    install(app, sim.bp, SimDeps(settings, svc.sessions, svc.clock, svc.orders, svc.conversations, svc.redis,
                                 partial(routing.offered_buttons, svc.redis)))
    cli.register(app, svc)
    register_json_errors(app)

    if settings.api_token_generated:
        logging.getLogger("orderline").warning(
            "API_TOKEN not set; using the generated development token from instance/dev-secrets.json")
    return app


def register_json_errors(app: Flask) -> None:
    """Machine clients (/api, /webhooks) get JSON errors even for unmatched routes."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if request.path.startswith(("/api/", "/webhooks/")):
            return error(exc.code or 500, exc.name.lower().replace(" ", "_"), exc.description or exc.name)
        return exc
