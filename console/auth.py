"""Sign-in, sign-out and the guard every console request passes: a live sign-in, then CSRF."""
from __future__ import annotations

import logging
from datetime import timedelta
from functools import wraps
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

import redis
from flask import flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from console import bp, csrf, login_manager, signins, throttle
from console.agents import AgentUser, authenticate, load_agent, record_sign_in
from console.deps import deps

log = logging.getLogger(__name__)
PUBLIC_ENDPOINTS = {"console.login", "console.static"}
SIGNIN_KEY = "signin"  # in the session cookie: the id of this sign-in (console.signins)


class LoginForm(FlaskForm):
    name = StringField("Agent name", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


@login_manager.user_loader
def _load_user(agent_id: str) -> Optional[AgentUser]:
    """The agent, while the sign-in in this cookie is live on the server (not signed out, not expired)."""
    try:
        live = signins.agent_of(deps().redis, session.get(SIGNIN_KEY)) == agent_id
    except redis.RedisError as exc:
        log.warning("cannot check the console sign-in (%s); treating the request as signed out", exc)
        return None
    return load_agent(deps().sessions, agent_id) if live else None


def is_api() -> bool:
    return request.path.startswith("/agent/api/")


@bp.before_request
def guard():
    """Anonymous pages go to the sign-in page, anonymous API calls get 401; POSTs need CSRF."""
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        if is_api():
            return jsonify(error="unauthorized", message="sign in at /agent/login"), 401
        return redirect(url_for("console.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))
    csrf.protect()
    return None


@bp.errorhandler(CSRFError)
def on_csrf_error(exc: CSRFError):
    if is_api():
        return jsonify(error="csrf", message=exc.description), 400
    return render_template("console/error.html", title="Form expired",
                           message="This form has expired or did not come from the console. "
                                   "Go back, reload the page and try again."), 400


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("console.queue"))
    error = None
    if form.validate_on_submit():
        name, address = form.name.data or "", request.remote_addr or "unknown"
        try:
            wait = throttle.sign_in_wait(deps().redis, address, name)
        except redis.RedisError as exc:
            log.warning("sign-in throttle unavailable (%s); refusing sign-ins until Redis is back", exc)
            return refused(form, 503, 30, "Signing in is unavailable right now; try again in a minute.")
        if wait:
            return refused(form, 429, wait, f"Too many sign-in attempts. Try again in {minutes(wait)}.")
        agent = authenticate(deps().sessions, name, form.password.data or "")
        record_sign_in(deps().sessions, name, address, agent is not None)
        if agent is not None:
            signins.end(deps().redis, session.get(SIGNIN_KEY))  # signing in again replaces, never adds
            session[SIGNIN_KEY] = signins.start(deps().redis, agent.id)
            deps().assignments.start_shift(agent.id, timedelta(seconds=signins.LIFETIME))
            login_user(agent)
            return redirect(safe_next(request.args.get("next")) or url_for("console.queue"))
        error = "Wrong agent name or password."
    elif request.method == "POST":
        error = "Please fill in both fields." if not form.errors.get("csrf_token") else \
            "The form expired; please try again."
    status = 401 if error and request.method == "POST" else 200
    return render_template("console/login.html", form=form, error=error), status


def refused(form: LoginForm, status: int, retry_after: int, error: str):
    """The sign-in page again, before any password was checked."""
    return render_template("console/login.html", form=form, error=error), status, {"Retry-After": str(retry_after)}


def minutes(seconds: int) -> str:
    whole = max(1, -(-seconds // 60))
    return "a minute" if whole == 1 else f"{whole} minutes"


@bp.post("/logout")
def logout():
    """Ends this sign-in on the server too: the cookie, even if copied, no longer signs anyone in.

    It also ends the agent's shift, so new escalations are assigned to agents still signed in.
    """
    if current_user.is_authenticated:
        deps().assignments.end_shift(current_user.id)
    try:
        signins.end(deps().redis, session.pop(SIGNIN_KEY, None))
    except redis.RedisError as exc:
        log.warning("could not end the console sign-in in Redis (%s)", exc)
    logout_user()
    flash("Signed out.", "info")
    return redirect(url_for("console.login"))


def safe_next(target: Optional[str]) -> Optional[str]:
    """Only a path inside the console: never another host (open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/agent/") or target.startswith("//"):
        return None
    return target


def throttled(view: Callable[..., Any]) -> Callable[..., Any]:
    """Count the request against the agent's action budget (console.throttle) before the view runs.

    Over budget: 429 with Retry-After; Redis unreachable: 503 (an unmetered action is refused,
    like a sign-in).
    """
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            wait = throttle.action_wait(deps().redis, current_user.id)
        except redis.RedisError as exc:
            log.warning("console action throttle unavailable (%s); refusing the action", exc)
            return too_many(503, 30, "Actions are unavailable right now; try again in a minute.")
        if wait:
            return too_many(429, wait, f"Too many actions in a short time. Try again in {minutes(wait)}.")
        return view(*args, **kwargs)
    return wrapped


def too_many(status: int, retry_after: int, message: str) -> Any:
    headers = {"Retry-After": str(retry_after)}
    if is_api():
        return jsonify(error="throttled" if status == 429 else "unavailable", message=message), status, headers
    return render_template("console/error.html", title="Slow down", message=message), status, headers
