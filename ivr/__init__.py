"""Voice IVR: Twilio <Gather>/<Say> call flow over the domain core, as a Flask blueprint.

`ivr.views` wires requests, `ivr.flow` decides, `ivr.twiml` builds TwiML, `ivr.speech`
and `ivr.prompts` turn facts into words, `ivr.session` keeps per-call state in Redis.
"""
from ivr.views import bp

__all__ = ["bp"]
