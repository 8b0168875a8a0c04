"""How an HTTP adapter finds the few collaborators the wiring gave it: one typed value per adapter."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app


def install(app: Flask, blueprint: Blueprint, deps: Any) -> None:
    """Register `blueprint` and keep `deps` for its views (read back with `of`)."""
    app.extensions[f"orderline.{blueprint.name}"] = deps
    app.register_blueprint(blueprint)


def of(blueprint: Blueprint) -> Any:
    """The collaborators installed with `blueprint` in the current app."""
    return current_app.extensions[f"orderline.{blueprint.name}"]
