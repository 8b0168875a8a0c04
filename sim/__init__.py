"""The customer simulator at /try: WhatsApp, a phone and courier events, without a Twilio number.

Every action goes through the real front doors (signed /twilio/whatsapp and /twilio/voice,
/webhooks/shiprocket with its token) over HTTP. On by default in development, never in
production (`Settings.simulator_on`), and the signer refuses there too (`sim.signer`).
"""
from flask import Blueprint, abort

from sim.deps import deps

bp = Blueprint("sim", __name__, url_prefix="/try", template_folder="templates", static_folder="static",
               static_url_path="/static")


@bp.before_request
def _only_when_enabled() -> None:
    if not deps().settings.simulator_on:
        abort(404)


from sim import views  # noqa: E402,F401  (routes register on bp)

__all__ = ["bp"]
