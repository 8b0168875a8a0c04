"""Voice IVR: Twilio <Gather>/<Say> call flow over the domain core, as a Flask blueprint.

`ivr.views` wires requests to `ivr.runner`, which gathers facts and performs effects around
`ivr.step`, the pure call flow (`ivr.questions`: what each menu asks). `ivr.render` makes its
prompts TwiML with the `ivr.twiml` builders; `ivr.speech` and `ivr.prompts` turn facts into
words; `ivr.session` is the per-call state; `ivr.turn` holds the values a turn passes around.
"""
from ivr.views import bp

__all__ = ["bp"]
