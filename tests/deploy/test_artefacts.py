"""deploy/: the compose file, the Kubernetes manifests, the images and nginx, checked against the code.

Every file parses; every variable a process is given is one it reads; every app process gets
what production requires and starts (Settings.from_env); the Rasa side gets exactly what
tools/rasa_env.py would give it and no other secret; commands are the Procfile's; probes point at
routes that exist; `docker compose config` accepts the compose file where the plugin is installed.
"""
from __future__ import annotations

import ast
import re
import shlex
import shutil
import subprocess
from dataclasses import fields
from urllib.parse import urlparse

import pytest
import yaml

from orderline.settings import PRODUCTION_REQUIRED, ROOT, TEMPLATE_PREFIX, Settings
from tools.rasa_env import rasa_side_env

DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
K8S = DEPLOY / "k8s"
APP_ROLES = ("web", "worker", "cron", "migrate")
SETTINGS_NAMES = {f.name.upper() for f in fields(Settings) if f.name not in ("api_token_generated", "templates")}
# The only variables a process reads that are neither a Settings field nor a tools/rasa_env.py export:
# the action server's order API timeout (actions/api/orders.py) and the model Rasa loads (its --model).
ROLE_EXTRAS = {"actions": {"ORDER_SERVICE_TIMEOUT"}, "rasa": {"RASA_MODEL"}}
# Stand-ins for deploy/.env when interpolating the compose file (distinct, so mix-ups show).
COMPOSE_ENV = {name: f"test-{name.lower()}" for name in (
    "API_TOKEN", "SECRET_KEY", "TWILIO_AUTH_TOKEN", "SHIPROCKET_WEBHOOK_TOKEN", "RASA_CHANNEL_SECRET",
    "RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN", "POSTGRES_PASSWORD", "REDIS_PASSWORD")}
COMPOSE_ENV["PUBLIC_BASE_URL"] = "https://orderline.example.com"


# --- reading the artefacts -------------------------------------------------------------------

def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation: $$, ${VAR}, ${VAR:-default}, ${VAR:?error} (error when unset or empty)."""
    def one(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name, op, arg = m.group(1), m.group(2), m.group(3) or ""
        value = env.get(name, "")
        if op == ":?" and not value:
            raise KeyError(f"{name}: {arg}")
        return value or (arg if op == ":-" else "")
    return re.sub(r"\$\$|\$\{(\w+)(?:(:[-?])([^}]*))?\}", one, text)


def compose(env: dict[str, str] = COMPOSE_ENV) -> dict:
    return yaml.safe_load(interpolate(COMPOSE.read_text(), env))


def k8s_docs() -> list[dict]:
    return [d for path in sorted(K8S.glob("*.yaml")) for d in yaml.safe_load_all(path.read_text()) if d]


def role_of(command: str) -> str:
    for marker, role in (("gunicorn", "web"), ("rq worker", "worker"), ("wiring.cron", "cron"),
                         ("db upgrade", "migrate"), ("rasa_gate.serve", "rasa"), ("rasa_gate.actions_server", "actions")):
        if marker in command:
            return role
    raise AssertionError(f"a process this test does not know: {command}")


def shell_command(command) -> str:
    """The shell line a container runs: ["sh", "-c", line] or an argument list."""
    if isinstance(command, list) and command[:2] == ["sh", "-c"]:
        return command[2]
    return shlex.join(command) if isinstance(command, list) else command


class Process:
    """One Orderline process in an artefact: its role, its command, its environment, its probe paths."""

    def __init__(self, where: str, role: str, command: str, env: dict[str, str], probes: list[tuple[str, int]]):
        self.where, self.role, self.command, self.env, self.probes = where, role, command, env, probes

    def __repr__(self) -> str:
        return self.where


def compose_processes() -> list[Process]:
    out = []
    for name, svc in compose()["services"].items():
        if not str(svc.get("image", "")).startswith("orderline/"):
            continue
        command = shell_command(svc["command"])
        probes = []
        if "healthcheck" in svc:
            url = re.search(r"https?://[^'\"]+", " ".join(svc["healthcheck"]["test"])).group(0)
            probes.append((urlparse(url).path, urlparse(url).port))
        env = {k: str(v) for k, v in (svc.get("environment") or {}).items()}
        out.append(Process(f"compose:{name}", role_of(command), command, env, probes))
    return out


def k8s_processes() -> list[Process]:
    docs = k8s_docs()
    maps = {d["metadata"]["name"]: d["data"] for d in docs if d["kind"] == "ConfigMap"}
    (secret,) = [yaml.safe_load((K8S / "secret.template.yaml").read_text())]
    out = []
    for d in docs:
        if d["kind"] not in ("Deployment", "Job"):
            continue
        for c in d["spec"]["template"]["spec"]["containers"]:
            env: dict[str, str] = {}
            for source in c.get("envFrom", []):
                env.update({k: str(v) for k, v in maps[source["configMapRef"]["name"]].items()})
            for e in c.get("env", []):
                if "value" in e:
                    env[e["name"]] = str(e["value"])
                else:
                    ref = e["valueFrom"]["secretKeyRef"]
                    assert ref["name"] == secret["metadata"]["name"], e
                    env[e["name"]] = secret["stringData"][ref["key"]]
            ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
            probes = [(c[p]["httpGet"]["path"], ports.get(c[p]["httpGet"]["port"], c[p]["httpGet"]["port"]))
                      for p in ("readinessProbe", "livenessProbe", "startupProbe") if p in c]
            command = shell_command(c["command"])
            out.append(Process(f"k8s:{d['kind']}/{d['metadata']['name']}", role_of(command), command, env, probes))
    return out


PROCESSES = compose_processes() + k8s_processes()


def of(role: str) -> list[Process]:
    return [p for p in PROCESSES if p.role == role]


def procfile() -> dict[str, str]:
    return dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())


# --- the files -----------------------------------------------------------------------------------

def test_every_yaml_file_parses_and_kustomize_lists_every_manifest():
    paths = sorted(DEPLOY.rglob("*.yaml")) + sorted(DEPLOY.rglob("*.yml"))
    assert COMPOSE in paths and len(paths) >= 8
    for path in paths:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
        assert docs, path
        for doc in docs:
            assert isinstance(doc, dict), path
            if path.parent == K8S and path.name != "kustomization.yaml":
                assert {"apiVersion", "kind", "metadata"} <= doc.keys(), path
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    # The Secret is applied from the operator's filled-in copy, never from the template.
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.template.yaml"}


def test_both_artefacts_run_every_process():
    assert sorted(p.role for p in compose_processes()) == sorted(
        ["web", "worker", "cron", "migrate", "rasa", "rasa", "actions", "actions"])
    assert sorted(p.role for p in k8s_processes()) == sorted(["web", "worker", "cron", "migrate", "rasa", "actions"])
    services = compose()["services"]
    assert {"postgres", "redis", "nginx"} <= services.keys()
    redis_cmd = services["redis"]["command"]
    assert redis_cmd[redis_cmd.index("--appendonly") + 1] == "yes"  # AOF


# --- what each process is given -----------------------------------------------------------------

@pytest.mark.parametrize("proc", PROCESSES, ids=repr)
def test_every_variable_set_is_one_the_process_reads(proc):
    if proc.role in APP_ROLES:
        unknown = {k for k in proc.env if k not in SETTINGS_NAMES and not k.startswith(TEMPLATE_PREFIX)}
    else:  # exactly what tools/rasa_env.py gives the role, plus its small documented extras
        expected = rasa_side_env(Settings(database_url="postgresql://x@db/x"), proc.role).keys() | ROLE_EXTRAS[proc.role]
        unknown = proc.env.keys() - expected
    assert not unknown, f"{proc} sets variables nothing reads: {sorted(unknown)}"


def test_every_settings_variable_set_is_documented_in_env_example():
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    read_from_env = SETTINGS_NAMES | {n for extras in ROLE_EXTRAS.values() for n in extras}
    used = {k for p in PROCESSES for k in p.env if k in read_from_env or k.startswith(TEMPLATE_PREFIX)}
    assert used and not used - documented, sorted(used - documented)
    assert {"RASA_MODEL", "ORDERLINE_MULTI_HOST"} <= documented


@pytest.mark.parametrize("proc", [p for p in PROCESSES if p.role in APP_ROLES], ids=repr)
def test_app_processes_start_as_multi_host_production(proc):
    missing = [n.upper() for n in PRODUCTION_REQUIRED if not proc.env.get(n.upper())]
    assert not missing, f"{proc} lacks {missing}"
    settings = Settings.from_env(proc.env)  # raises UnsafeProduction for anything production refuses
    assert settings.production and settings.orderline_multi_host
    assert urlparse(settings.database_url).scheme.startswith("postgres")
    rasa_hosts = {p.where.split(":", 1)[1] for p in of("rasa") if p.where.split(":")[0] == proc.where.split(":")[0]}
    hosts = {urlparse(u.strip()).hostname for u in settings.rasa_url.split(",")}
    if proc.where.startswith("compose:"):
        assert hosts == rasa_hosts, (hosts, rasa_hosts)  # every Rasa server, and nothing else
    else:
        assert hosts == {"rasa"}  # the Service in front of the Rasa pods


def app_settings(where: str) -> Settings:
    (web,) = [p for p in of("web") if p.where.startswith(where)]
    return Settings.from_env(web.env)


@pytest.mark.parametrize("proc", of("rasa") + of("actions"), ids=repr)
def test_the_rasa_side_gets_what_rasa_env_would_export(proc):
    """Same secrets, Redis and tracker store as tools/rasa_env.py derives from the app's settings;
    its own addresses point at a service that exists in the same artefact."""
    kind = proc.where.split(":")[0]
    expected = rasa_side_env(app_settings(kind), proc.role)
    # Addresses differ per host; the model artefact is the Rasa side's own (the app never loads it).
    per_host = {"RASA_BIND_HOST", "ACTIONS_BIND_HOST", "ACTION_ENDPOINT_URL", "ORDER_SERVICE_URL", "RASA_MODEL"}
    assert {k: proc.env.get(k) for k in expected.keys() - per_host} == {k: expected[k] for k in expected.keys() - per_host}
    if proc.role == "rasa":
        target = urlparse(proc.env["ACTION_ENDPOINT_URL"])
        actions = [p for p in of("actions") if p.where.startswith(kind)]
        assert target.path == "/webhook" and target.port == 5055
        assert target.hostname in {p.where.split(":", 1)[1].split("/")[-1] for p in actions}
        # rasa_gate.serve loads RASA_MODEL itself (a path, or a URL it downloads and checks).
        assert "--model" not in proc.command and proc.env["RASA_MODEL"].endswith(".tar.gz")
    else:
        assert urlparse(proc.env["ORDER_SERVICE_URL"]).hostname == "web"


def test_rasa_never_holds_the_apps_secrets_nor_actions_rasas():
    """docs/security.md: Rasa never holds API_TOKEN; the action server never holds the channel
    secret or Rasa's token. Nor does either hold the app's other secrets."""
    app_only = {"API_TOKEN", "SECRET_KEY", "TWILIO_AUTH_TOKEN", "SHIPROCKET_WEBHOOK_TOKEN", "DATABASE_URL"}
    for proc in of("rasa"):
        assert not proc.env.keys() & app_only, proc
    for proc in of("actions"):
        assert not proc.env.keys() & (app_only - {"API_TOKEN"} | {"RASA_CHANNEL_SECRET", "RASA_AUTH_TOKEN"}), proc


def test_the_secret_template_holds_no_secret():
    secret = yaml.safe_load((K8S / "secret.template.yaml").read_text())
    for key, value in secret["stringData"].items():
        assert "CHANGE-ME" in value, key
        assert not re.sub(r"CHANGE-ME|postgresql://orderline:|@postgres:5432/orderline|redis://:|@redis:6379/0", "", value), key
    assert "data" not in secret


# --- commands and probes --------------------------------------------------------------------------

@pytest.mark.parametrize("proc", [p for p in PROCESSES if p.role != "migrate"], ids=repr)
def test_commands_are_the_procfiles(proc):
    """A container runs the Procfile's process itself; the Rasa side without the `eval` of
    tools/rasa_env.py (its environment is given directly)."""
    expected = procfile()[proc.role].split(" && exec ", 1)[-1]
    assert proc.command.removeprefix("exec ") == expected


def test_the_dockerfiles_copy_what_their_processes_import():
    rasa_side = {"actions", "rasa_gate"}
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    for dockerfile, needed in (("Dockerfile", packages - rasa_side | {"tools"}), ("rasa.Dockerfile", rasa_side)):
        text = (DEPLOY / dockerfile).read_text()
        copied = {line.split()[1].split("/")[0] for line in text.splitlines() if line.startswith("COPY ")}
        assert needed <= copied, (dockerfile, needed - copied)
        for line in text.splitlines():
            if line.startswith("COPY "):
                for source in line.split()[1:-1]:
                    assert source == "models/orderline.tar.gz" or (ROOT / source).exists(), (dockerfile, source)
    assert "python:3.10" in (DEPLOY / "rasa.Dockerfile").read_text()  # Rasa 3.6


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_web_probes_are_routes_that_answer(client):
    paths = {path for p in of("web") for path, port in p.probes}
    assert paths == {"/healthz", "/readyz"}
    for p in of("web"):
        assert {port for _, port in p.probes} == {5000}
    assert client.get("/healthz").status_code == 200
    # /readyz answers for every prober (status code only); the test app has no Rasa, so 503.
    resp = client.get("/readyz", environ_base={"REMOTE_ADDR": "8.8.8.8"})
    assert resp.status_code in (200, 503) and "checks" not in resp.get_json()


def test_rasa_side_probes_are_their_open_routes():
    """The action server's only open path (rasa_gate/actions_server.py OPEN_PATHS), and Rasa's
    unauthenticated hello (`GET /` in rasa/server.py, no @requires_auth)."""
    tree = ast.parse((ROOT / "rasa_gate/actions_server.py").read_text())
    (open_paths,) = [ast.literal_eval(n.value.args[0]) for n in ast.walk(tree)
                     if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "OPEN_PATHS"]
    for p in of("actions"):
        assert p.probes and {path for path, _ in p.probes} <= open_paths and {port for _, port in p.probes} == {5055}
    (server,) = (ROOT / ".venv-rasa").glob("lib/python3.10/site-packages/rasa/server.py")
    hello = re.search(r'((?:\s*@[^\n]+\n)+)\s*async def hello', server.read_text())
    assert hello and '@app.get("/")' in hello.group(1) and "requires_auth" not in hello.group(1)
    for p in of("rasa"):
        assert p.probes and {path for path, _ in p.probes} == {"/"} and {port for _, port in p.probes} == {5005}


def test_autoscalers_scale_web_rasa_and_workers_by_cpu_they_request():
    docs = k8s_docs()
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    hpas = {d["spec"]["scaleTargetRef"]["name"]: d for d in docs if d["kind"] == "HorizontalPodAutoscaler"}
    assert set(hpas) == {"web", "rasa", "worker"}
    for name, hpa in hpas.items():
        assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment" and name in deployments
        assert 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
        for c in deployments[name]["spec"]["template"]["spec"]["containers"]:
            assert c["resources"]["requests"]["cpu"], name  # utilization is measured against it
    assert hpas["web"]["spec"]["minReplicas"] >= 2 and hpas["rasa"]["spec"]["minReplicas"] >= 2
    assert deployments["cron"]["spec"]["replicas"] == 1 and deployments["cron"]["spec"]["strategy"]["type"] == "Recreate"
    services = {d["metadata"]["name"] for d in docs if d["kind"] == "Service"}
    assert services == {"web", "rasa", "actions"}


def test_nginx_fronts_the_web_service_and_overwrites_forwarded_for():
    conf = (DEPLOY / "nginx/orderline.conf").read_text()
    (mount,) = [v for v in compose()["services"]["nginx"]["volumes"] if v.startswith("./nginx/orderline.conf:")]
    assert (DEPLOY / mount.split(":")[0]).exists()
    assert "server web:5000;" in conf
    assert "$proxy_add_x_forwarded_for" not in conf and conf.count("X-Forwarded-For $remote_addr") >= 1
    (web,) = [p for p in compose_processes() if p.role == "web"]
    assert Settings.from_env(web.env).web_bind.endswith(":5000")  # gunicorn.conf.py binds WEB_BIND
    assert compose()["services"]["web"].get("ports") is None  # only nginx is published


def test_compose_refuses_to_start_without_a_secret():
    with pytest.raises(KeyError, match="API_TOKEN"):
        compose({k: v for k, v in COMPOSE_ENV.items() if k != "API_TOKEN"})


def docker_compose_available() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


@pytest.mark.skipif(not docker_compose_available(),
                    reason="the docker CLI's `compose` plugin is not installed here (`docker compose` is an unknown "
                           "command); the file is still parsed and interpolated by the tests above")
def test_docker_compose_config_accepts_the_file(tmp_path):
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(tmp_path), **COMPOSE_ENV}
    empty = tmp_path / "empty.env"  # never an operator's deploy/.env
    empty.write_text("")
    base = ["docker", "compose", "--env-file", str(empty), "-f", str(COMPOSE), "config"]
    ok = subprocess.run(base + ["--services"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert set(ok.stdout.split()) == set(compose()["services"])
    env.pop("API_TOKEN")
    refused = subprocess.run(base, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert refused.returncode != 0 and "API_TOKEN" in refused.stderr
