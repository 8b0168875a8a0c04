"""What Orderline sets up in the Rasa server's process before Rasa starts (Python 3.10, `.venv-rasa`).

- `action_results`: Rasa checks every custom action's answer against a JSON schema; the schema
  itself is checked once here instead of on every answer.

`python -m rasa_boot run …` is `rasa run …` with these in place. Imports nothing of the app.
"""
