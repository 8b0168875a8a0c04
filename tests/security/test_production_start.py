"""Attack: find a production started without a secret, running on a made-up or empty one.

Processes started as the Procfile starts them, outside make, are production; with a secret
missing each stops at once with one line naming it. ORDERLINE_ENV is set empty here (unset
means production) so that a developer's .env cannot make it development.
"""
from __future__ import annotations

import os
import subprocess

import pytest
import requests

from orderline.settings import PRODUCTION_REQUIRED
from tests.security import processes
from tests.support.live_stack import free_port

SECRETS = {name.upper(): f"prod-{name}-0123456789" for name in PRODUCTION_REQUIRED}


@pytest.fixture
def production_env(tmp_path, redis_url):
    """The environment of a production start on this run's Redis, with `changes` applied."""
    def make(**changes: str) -> dict[str, str]:
        return environment(tmp_path, redis_url, **changes)
    return make


def environment(tmp_path, redis_url: str, **changes: str) -> dict[str, str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
           "ORDERLINE_ENV": "", "DATABASE_URL": f"sqlite:///{tmp_path}/prod.db", "REDIS_URL": redis_url,
           "RASA_URL": "http://127.0.0.1:9", "SIMULATOR_ENABLED": "", **SECRETS}
    env.update(changes)
    return env


def start(name: str, env: dict[str, str], port: int = 0) -> subprocess.Popen:
    return processes.start(name, env, port or free_port(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def refused(proc: subprocess.Popen) -> list[str]:
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        raise AssertionError("it started anyway")
    assert proc.returncode != 0
    return [line for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize("missing", [name.upper() for name in PRODUCTION_REQUIRED])
def test_the_app_refuses_to_start_without_a_secret(production_env, missing):
    lines = refused(start("web", production_env(**{missing: ""})))
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"orderline: {missing} is not set") and "production" in lines[0]


@pytest.mark.parametrize("process", ["worker", "cron"])
def test_the_worker_and_cron_refuse_too(production_env, process):
    lines = refused(start(process, production_env(SECRET_KEY="")))
    assert lines == [lines[0]] and lines[0].startswith("orderline: SECRET_KEY is not set"), lines


def test_the_simulator_cannot_be_switched_on_in_production(production_env):
    lines = refused(start("web", production_env(SIMULATOR_ENABLED="true")))
    assert len(lines) == 1 and "SIMULATOR_ENABLED" in lines[0], lines


@pytest.mark.parametrize("variable, value", [("AGENT_LINE_PIN", "4321"), ("AGENT_LINE_PIN", "12 34 56"),
                                             ("AGENT_LINE_ALLOWED_NUMBERS", "+919888800001, 98888 00002")])
def test_a_guessable_agent_pin_or_a_bad_allow_list_stops_production(production_env, variable, value):
    lines = refused(start("web", production_env(**{"AGENT_LINE_PIN": "492817", variable: value})))
    assert len(lines) == 1 and lines[0].startswith(f"orderline: {variable} must be"), lines


def test_with_every_secret_it_starts_as_production(production_env):
    """The control: the same start with nothing missing serves, as production (no /try, Secure cookies)."""
    port = free_port()
    proc = start("web", production_env(), port)
    try:
        base = f"http://127.0.0.1:{port}"
        processes.wait_until_serving(proc, base)
        assert requests.get(base + "/try", timeout=5).status_code == 404
        assert "Secure" in requests.get(base + "/agent/login", timeout=5).headers["Set-Cookie"]
    finally:
        processes.stop(proc)
