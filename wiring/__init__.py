"""The composition root: builds Orderline's object graph once, for the app, the worker and the CLI.

Only this package imports adapters together; each adapter gets the few collaborators it uses.
"""
from wiring.app import create_app
from wiring.services import Services

__all__ = ["Services", "create_app"]
