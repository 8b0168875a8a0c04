"""Gunicorn reads ./gunicorn.conf.py by itself, in the master, before it logs or forks a worker.

Checking the settings here makes an unsafe production stop with one line and a non-zero exit.
Left to the app factory, the check would fail in each worker, which gunicorn respawns forever.
The address to listen on is WEB_BIND (a `--bind` on the command line wins); the Procfile's
`web:` line holds the other server options.
"""
from wiring.startup import settings_or_exit

bind = [settings_or_exit().web_bind]
