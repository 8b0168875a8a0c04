"""Sign-in, sign-out and the guard every console request passes: a session, then CSRF."""
from __future__ import annotations

from typing import Optional
from urllib.parse import urlsplit

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from console import bp, csrf, login_manager
from console.agents import AgentUser, authenticate, load_agent
from console.deps import deps

PUBLIC_ENDPOINTS = {"console.login", "console.static"}


class LoginForm(FlaskForm):
    name = StringField("Agent name", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


@login_manager.user_loader
def _load_user(agent_id: str) -> Optional[AgentUser]:
    return load_agent(deps().sessions, agent_id)


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
        agent = authenticate(deps().sessions, form.name.data or "", form.password.data or "")
        if agent is not None:
            login_user(agent)
            return redirect(safe_next(request.args.get("next")) or url_for("console.queue"))
        error = "Wrong agent name or password."
    elif request.method == "POST":
        error = "Please fill in both fields." if not form.errors.get("csrf_token") else \
            "The form expired; please try again."
    status = 401 if error and request.method == "POST" else 200
    return render_template("console/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
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
