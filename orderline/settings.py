"""One typed settings object, read from the environment.

python-dotenv fills gaps from `.env`, but a real environment variable always wins.
"""
from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Optional

from dotenv import dotenv_values

from orderline.phones import InvalidPhone, normalise_phone

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Field names map to upper-case environment variables."""

    database_url: str = "sqlite:///instance/orderline.db"
    redis_url: str = "redis://localhost:6379/0"
    # One Rasa base URL, or several separated by commas (bot/rasa_client.py spreads the senders).
    rasa_url: str = "http://localhost:5005"
    # The trained model Rasa serves: a path, or an http(s) URL (`#sha256=<hex>` to check it);
    # empty: the newest in models/. Read by rasa_gate/serve.py (docs/deploy.md).
    rasa_model: str = ""
    # The trust boundary around Rasa (docs/security.md). The app signs each customer message with
    # the channel secret and sends the auth token on Rasa's HTTP API; Rasa sends the action token
    # to its action server. Generated for development when empty (instance/dev-secrets.json).
    rasa_channel_secret: str = ""
    rasa_auth_token: str = ""
    action_server_token: str = ""
    # Where Rasa and the action server listen, and where Rasa reaches the action server.
    rasa_bind_host: str = "127.0.0.1"
    actions_bind_host: str = "127.0.0.1"
    action_endpoint_url: str = "http://127.0.0.1:5055/webhook"
    # Where gunicorn (the Procfile's web process) listens: host:port.
    web_bind: str = "0.0.0.0:5000"
    # Several hosts share the database and Redis: SQLite (a file on one host) is refused.
    orderline_multi_host: bool = False
    order_service_url: str = "http://localhost:5000"
    api_token: str = ""
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_whatsapp_from: str = ""
    twilio_api_base_url: str = "https://api.twilio.com"
    public_base_url: str = "http://localhost:5000"
    shiprocket_webhook_token: str = ""
    # Store order webhooks (optional, in production too): each store's signing secret. Unset, that
    # store's endpoint answers 404 and accepts nothing.
    shopify_webhook_secret: str = ""
    woocommerce_webhook_secret: str = ""
    # The Shiprocket API user (Settings -> API in Shiprocket) that sends reattempts, cancels and
    # address changes; without it courier requests are recorded as "not sent" (docs/integrations.md).
    shiprocket_api_base_url: str = "https://apiv2.shiprocket.in"
    shiprocket_api_email: str = ""
    shiprocket_api_password: str = ""
    secret_key: str = ""
    timezone: str = "Asia/Kolkata"
    # Seconds the WhatsApp front door waits for Rasa before a holding reply; the background retry's wait.
    rasa_timeout: float = 5.0
    rasa_retry_timeout: float = 30.0
    # Minutes a customer waits for an agent before being told when a person will answer.
    agent_wait_minutes: int = 10
    # PIN agents key in on the voice agent line (POST /twilio/voice/agent): at least 6 digits;
    # empty refuses everyone. Wrong PINs are counted in Redis, per caller and for the line (ivr/pin.py).
    agent_line_pin: str = ""
    # Comma-separated E.164 numbers that may call the agent line; empty: any number may try the PIN.
    agent_line_allowed_numbers: str = ""
    # A worker that claimed a notification and went silent this long is presumed dead.
    notification_lease_seconds: int = 60
    # What a customer whose parcel the courier lost or damaged is promised: "refund" or "replacement".
    lost_parcel_remedy: str = "refund"
    # Hours without a courier scan after which a shipment in transit counts as delayed (told once per silence).
    silent_shipment_hours: int = 72
    # WhatsApp templates (Content SIDs) by notification event, from TWILIO_TEMPLATE_<EVENT>.
    templates: tuple[tuple[str, str], ...] = ()
    # The seller's canned replies for agents (docs/console.md); empty: canned_replies.txt here.
    canned_replies_file: str = ""
    # Reverse proxies in front of the app that append the client's address to X-Forwarded-For.
    # 0: the peer is the client and the header is ignored (anyone can write it).
    trusted_proxies: int = 0
    # "production" unless set: only `make run` and the tests say "development". Production refuses
    # to start without its secrets (PRODUCTION_REQUIRED) and never runs the simulator.
    orderline_env: str = "production"
    # The customer simulator at /try, in development only. None (unset) means on.
    simulator_enabled: Optional[bool] = None
    api_token_generated: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        if self.orderline_env not in ENVIRONMENTS:
            raise ValueError(f"ORDERLINE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.orderline_env!r}")
        if self.lost_parcel_remedy not in REMEDIES:
            raise ValueError(f"LOST_PARCEL_REMEDY must be one of {', '.join(REMEDIES)}, not {self.lost_parcel_remedy!r}")
        if self.silent_shipment_hours < 1:
            raise ValueError(f"SILENT_SHIPMENT_HOURS must be at least 1, not {self.silent_shipment_hours}")
        if self.orderline_multi_host and is_sqlite(self.database_url):
            raise ValueError("DATABASE_URL is SQLite, a file on one host; ORDERLINE_MULTI_HOST=true needs a database "
                             "every host reaches (postgresql://...)")

    @property
    def production(self) -> bool:
        return self.orderline_env == "production"

    @property
    def simulator_on(self) -> bool:
        """Never in production; in development SIMULATOR_ENABLED when set explicitly, else on."""
        return not self.production and self.simulator_enabled is not False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, dotenv_path: Path | None = None) -> "Settings":
        """Build settings from `env` (default: os.environ), with `.env` filling gaps only."""
        source = dict(os.environ if env is None else env)
        path = dotenv_path or ROOT / ".env"
        if env is None and path.exists():
            for key, value in dotenv_values(path).items():
                if value is not None:
                    source.setdefault(key, value)
        values: dict[str, object] = {}
        for f in fields(cls):
            if f.name in ("api_token_generated", "templates"):
                continue
            raw = source.get(f.name.upper())
            if raw not in (None, ""):
                values[f.name] = parse_value(f.name, str(f.type), raw)
        values["templates"] = tuple(sorted(
            (key[len(TEMPLATE_PREFIX):].lower(), value) for key, value in source.items()
            if key.startswith(TEMPLATE_PREFIX) and value))
        settings = cls(**values)  # type: ignore[arg-type]
        return settings.with_defaults()

    def with_defaults(self) -> "Settings":
        """In development, fill unset secrets from a per-checkout dev file so every process agrees
        on them. Production gets no made-up secrets: it is checked instead (`check_production`)."""
        if self.production:
            self.check_production()
            return self
        missing = [k for k in DEV_SECRETS if not getattr(self, k)]
        if not missing:
            return self
        secrets_file = dev_secrets()
        changes: dict[str, object] = {k: secrets_file[k] for k in missing}
        if "api_token" in missing:
            changes["api_token_generated"] = True
        return replace_settings(self, **changes)

    def check_production(self) -> None:
        """Refuse what would make production unsafe, with a one-line reason naming the variable.

        Raises:
            UnsafeProduction: a secret in PRODUCTION_REQUIRED is unset, or SIMULATOR_ENABLED is true.
        """
        missing = [name.upper() for name in PRODUCTION_REQUIRED if not str(getattr(self, name)).strip()]
        if missing:
            one = len(missing) == 1
            names = missing[0] if one else ", ".join(missing[:-1]) + " and " + missing[-1]
            raise UnsafeProduction(
                f"{names} {'is' if one else 'are'} not set; ORDERLINE_ENV=production refuses to start without "
                f"{'it' if one else 'them'} (ORDERLINE_ENV=development is for a developer's machine)")
        if self.simulator_enabled:
            raise UnsafeProduction("SIMULATOR_ENABLED=true is refused in production: the simulator at /try "
                                   "is for development only")
        problem = self.agent_line_problem()
        if problem:
            raise UnsafeProduction(f"{problem}; ORDERLINE_ENV=production refuses to start with it")

    def agent_line_problem(self) -> Optional[str]:
        """Why AGENT_LINE_PIN or AGENT_LINE_ALLOWED_NUMBERS is unusable, in one line; None when it is fine.

        Production refuses to start with a problem; development runs with the agent line off
        (`ivr.config.voice_config` logs this line).
        """
        pin = self.agent_line_pin.strip()
        if pin and not re.fullmatch(rf"[0-9]{{{AGENT_PIN_DIGITS},}}", pin):
            return (f"AGENT_LINE_PIN must be at least {AGENT_PIN_DIGITS} digits, 0-9 only "
                    f"(it has {len(pin)} characters)")
        try:
            self.agent_line_numbers
        except InvalidPhone as exc:
            return f"AGENT_LINE_ALLOWED_NUMBERS must be comma-separated E.164 numbers ({exc})"
        return None

    @property
    def agent_line_numbers(self) -> frozenset[str]:
        """AGENT_LINE_ALLOWED_NUMBERS in E.164; raises InvalidPhone for an entry that is not one."""
        numbers = [n.strip() for n in self.agent_line_allowed_numbers.split(",") if n.strip()]
        for n in numbers:
            if not n.startswith("+"):
                raise InvalidPhone(f"not an E.164 number (+ and country code): {n!r}")
        return frozenset(normalise_phone(n) for n in numbers)

    @property
    def template_map(self) -> dict[str, str]:
        return dict(self.templates)

    @property
    def canned_replies_path(self) -> Path:
        """CANNED_REPLIES_FILE, relative paths from the project root."""
        path = Path(self.canned_replies_file or "canned_replies.txt")
        return path if path.is_absolute() else ROOT / path

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with relative SQLite paths anchored at the project root."""
        return absolute_sqlite_url(self.database_url)


TEMPLATE_PREFIX = "TWILIO_TEMPLATE_"
AGENT_PIN_DIGITS = 6  # a million PINs; with the lockout (ivr/pin.py) guessing one takes years
ENVIRONMENTS = ("development", "production")
# LOST_PARCEL_REMEDY: what the seller does about a parcel the courier lost or damaged.
REMEDIES = ("refund", "replacement")
# Production does not start without these (the Rasa connector's other secrets join them as they come).
PRODUCTION_REQUIRED = ("api_token", "twilio_auth_token", "shiprocket_webhook_token", "secret_key",
                       "rasa_channel_secret", "rasa_auth_token", "action_server_token")


class UnsafeProduction(ValueError):
    """ORDERLINE_ENV=production with settings that would make it unsafe; the message is one line."""
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_value(name: str, type_name: str, raw: str) -> object:
    """Convert one environment string to the field's type (int, float, bool or str)."""
    if type_name in ("int", "float"):
        return int(raw) if type_name == "int" else float(raw)
    if "bool" in type_name:
        word = raw.strip().lower()
        if word not in TRUE_WORDS + FALSE_WORDS:
            raise ValueError(f"{name.upper()} must be true or false, not {raw!r}")
        return word in TRUE_WORDS
    return raw.strip().lower() if name in ("orderline_env", "lost_parcel_remedy") else raw


DEV_SECRETS = ("api_token", "secret_key", "shiprocket_webhook_token", "twilio_auth_token",
               "rasa_channel_secret", "rasa_auth_token", "action_server_token")
DEV_SECRETS_FILE = ROOT / "instance" / "dev-secrets.json"


def dev_secrets(path: Path = DEV_SECRETS_FILE) -> dict[str, str]:
    """Development secrets, generated once per checkout and kept out of git (instance/)."""
    import json

    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    if not all(isinstance(data.get(k), str) and data[k] for k in DEV_SECRETS):
        data = {k: data.get(k) or secrets.token_urlsafe(24) for k in DEV_SECRETS}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.chmod(0o600)
        tmp.replace(path)
    return data


def replace_settings(settings: Settings, **changes: object) -> Settings:
    """Return a copy of `settings` with `changes` applied."""
    from dataclasses import replace

    return replace(settings, **changes)


def is_sqlite(url: str) -> bool:
    return url.strip().lower().startswith("sqlite")


def absolute_sqlite_url(url: str) -> str:
    """Anchor `sqlite:///relative/path` at the project root so every process agrees."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////") and ":memory:" not in url:
        return prefix + str(ROOT / url[len(prefix):])
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://"):]
    return url
