"""The gates in front of Rasa and its action server (Rasa side, Python 3.10; imports nothing of the app).

- `signing`: the signed-message protocol the app and Rasa share (stdlib only).
- `channel`: Rasa's input channel that accepts only messages the app signed, once.
- `serve`: starts `rasa run` with that channel only, an API token and a private address.
- `actions_server`: starts the action server, refusing calls without the action token.

See docs/security.md.
"""
