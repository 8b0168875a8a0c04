"""Start the Rasa server behind its gates: `python -m rasa_gate.serve [rasa run options]`.

Adds to `rasa run`: the signed `orderline` channel as the only connector (Rasa's open `rest`
channel is never registered), `--auth-token` from RASA_AUTH_TOKEN for the HTTP API, and
`--interface` from RASA_BIND_HOST (127.0.0.1 unless set), and `--model` from RASA_MODEL (a path or
an http(s) URL, downloaded first: rasa_gate/model.py) unless given. The token is put into Rasa's argument
list inside this process, so it never appears on a command line other users can read (ps).
Refuses to start when a secret is missing, rather than serving an open assistant, and, with
ORDERLINE_MULTI_HOST=true, when the tracker store (RASA_TRACKER_URL) is a SQLite file.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Mapping, MutableMapping, Optional, Sequence

CHANNEL = "rasa_gate.channel.SignedInput"
CREDENTIALS = Path(__file__).resolve().parent.parent / "credentials.yml"
# The gate decides these (its own come last, so argparse would let them win anyway); a second way
# in (a JWT secret) would reopen what it closes, so it is refused too.
OWNED_FLAGS = ("--auth-token", "-t", "--interface", "-i", "--connector", "--credentials", "--jwt-secret")

TRUE_WORDS = ("1", "true", "yes", "on")
# Seconds a sender's turn holds its lock in Rasa's Redis lock store (Rasa's TICKET_LOCK_LIFETIME,
# default 60). A Rasa host that dies mid-turn leaves the lock until then, and the sender's next
# turn waits on another host: at 60 s that outlasts the app's background retry (RASA_RETRY_TIMEOUT,
# 30 s) and the customer is handed to a person. A turn takes seconds, so 20 s still covers it.
LOCK_LIFETIME = "20"


def names_model(args: Sequence[str]) -> bool:
    return any(a in ("--model", "-m") or a.startswith("--model=") for a in args)


def rasa_argv(args: Sequence[str], env: Mapping[str, str], model: Optional[str] = None) -> list[str]:
    """The `rasa run` argument list for `args` (and `model` unless args name one), or SystemExit naming what is missing."""
    for flag in OWNED_FLAGS:
        if any(a == flag or a.startswith(flag + "=") for a in args):
            raise SystemExit(f"rasa_gate.serve sets {flag} itself; remove it (see docs/security.md)")
    token, secret = env.get("RASA_AUTH_TOKEN", ""), env.get("RASA_CHANNEL_SECRET", "")
    if not token or not secret:
        raise SystemExit("RASA_AUTH_TOKEN and RASA_CHANNEL_SECRET must be set: refusing to start an open Rasa")
    multi_host = env.get("ORDERLINE_MULTI_HOST", "").strip().lower() in TRUE_WORDS
    if multi_host and env.get("RASA_TRACKER_URL", "").strip().lower().startswith("sqlite"):
        raise SystemExit("RASA_TRACKER_URL is SQLite, a file on one host; ORDERLINE_MULTI_HOST=true needs the "
                         "tracker store in a database every Rasa host reaches (postgresql://...)")
    model_args = [] if names_model(args) or model is None else ["--model", model]
    return ["rasa", "run", *args, *model_args, "--connector", CHANNEL, "--credentials", str(CREDENTIALS),
            "--auth-token", token, "--interface", env.get("RASA_BIND_HOST") or "127.0.0.1"]


def lock_lifetime_default(env: MutableMapping[str, str]) -> None:
    """TICKET_LOCK_LIFETIME for Rasa's lock store, unless the operator set one."""
    env.setdefault("TICKET_LOCK_LIFETIME", LOCK_LIFETIME)


def main() -> None:
    from rasa_gate.model import model_path

    args = sys.argv[1:]
    rasa_argv(args, os.environ)  # refuse a bad setup before any download
    model = None if names_model(args) else model_path(os.environ.get("RASA_MODEL", ""))
    sys.argv = rasa_argv(args, os.environ, model)
    lock_lifetime_default(os.environ)  # read when Rasa's lock store is imported, below
    from rasa_gate import action_results

    action_results.install()  # each action answer checked by a validator built once (docs/benchmarks.md)
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
