import pytest

from orderline.settings import PRODUCTION_REQUIRED, Settings, UnsafeProduction

DEV = {"ORDERLINE_ENV": "development"}
PRODUCTION_SECRETS = {name.upper(): f"secret-{name}" for name in PRODUCTION_REQUIRED}


def test_env_beats_dotenv(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("DATABASE_URL=sqlite:////from/dotenv.db\nRASA_URL=http://dotenv:5005\nORDERLINE_ENV=development\n")
    import os
    old = dict(os.environ)
    try:
        os.environ["DATABASE_URL"] = "sqlite:////from/env.db"
        os.environ.pop("RASA_URL", None)
        os.environ.pop("ORDERLINE_ENV", None)
        s = Settings.from_env(dotenv_path=dotenv)
    finally:
        os.environ.clear(); os.environ.update(old)
    assert s.database_url == "sqlite:////from/env.db"  # the real environment wins
    assert s.rasa_url == "http://dotenv:5005"  # .env fills the gap


def test_defaults_and_relative_sqlite_is_anchored():
    s = Settings.from_env({"API_TOKEN": "t", "SECRET_KEY": "k", "SHIPROCKET_WEBHOOK_TOKEN": "s", **DEV})
    assert s.redis_url == "redis://localhost:6379/0" and s.twilio_api_base_url == "https://api.twilio.com"
    assert s.sqlalchemy_url.startswith("sqlite:////") and s.sqlalchemy_url.endswith("instance/orderline.db")
    assert not s.api_token_generated


def test_missing_token_is_generated_and_stable_in_development():
    a = Settings.from_env(DEV)
    b = Settings.from_env(DEV)
    assert a.api_token_generated and len(a.api_token) >= 20 and a.api_token == b.api_token


def test_unset_means_production():
    assert Settings().production
    assert Settings.from_env(PRODUCTION_SECRETS).production
    assert Settings.from_env({**PRODUCTION_SECRETS, "ORDERLINE_ENV": ""}).production


@pytest.mark.parametrize("name", PRODUCTION_REQUIRED)
def test_production_refuses_to_start_without_each_secret(name):
    with pytest.raises(UnsafeProduction) as refused:
        Settings.from_env({**PRODUCTION_SECRETS, name.upper(): ""})
    message = str(refused.value)
    assert message.startswith(f"{name.upper()} is not set") and "\n" not in message
    with pytest.raises(UnsafeProduction, match=name.upper()):
        Settings.from_env({**PRODUCTION_SECRETS, name.upper(): "   "})


def test_production_never_makes_up_secrets():
    with pytest.raises(UnsafeProduction, match="API_TOKEN, TWILIO_AUTH_TOKEN, SHIPROCKET_WEBHOOK_TOKEN, SECRET_KEY, "
                                               "RASA_CHANNEL_SECRET, RASA_AUTH_TOKEN and ACTION_SERVER_TOKEN "
                                               "are not set"):
        Settings.from_env({})
    s = Settings.from_env(PRODUCTION_SECRETS)
    assert s.api_token == "secret-api_token" and not s.api_token_generated


def test_simulator_is_on_in_development_and_never_in_production():
    assert Settings.from_env(DEV).simulator_on
    assert not Settings.from_env(PRODUCTION_SECRETS).simulator_on
    assert not Settings.from_env({"SIMULATOR_ENABLED": "0", **DEV}).simulator_on  # explicit off in development
    assert not Settings(orderline_env="production", simulator_enabled=True).simulator_on
    with pytest.raises(UnsafeProduction, match="SIMULATOR_ENABLED=true is refused in production"):
        Settings.from_env({**PRODUCTION_SECRETS, "ORDERLINE_ENV": "Production ", "SIMULATOR_ENABLED": "true"})


def test_bad_environment_or_flag_is_refused():
    with pytest.raises(ValueError, match="ORDERLINE_ENV"):
        Settings.from_env({"ORDERLINE_ENV": "staging"})
    with pytest.raises(ValueError, match="SIMULATOR_ENABLED must be true or false"):
        Settings.from_env({"SIMULATOR_ENABLED": "maybe", **DEV})


def test_lost_parcel_remedy_and_silence_have_defaults_and_refuse_nonsense():
    s = Settings.from_env(dict(DEV))
    assert (s.lost_parcel_remedy, s.silent_shipment_hours) == ("refund", 72)
    s = Settings.from_env({**DEV, "LOST_PARCEL_REMEDY": " Replacement", "SILENT_SHIPMENT_HOURS": "48"})
    assert (s.lost_parcel_remedy, s.silent_shipment_hours) == ("replacement", 48)
    for env in ({"LOST_PARCEL_REMEDY": "voucher"}, {"SILENT_SHIPMENT_HOURS": "0"}):
        with pytest.raises(ValueError, match=next(iter(env))):
            Settings.from_env({**DEV, **env})


def test_multi_host_refuses_sqlite_with_one_line_naming_the_variable():
    for url in ("sqlite:///instance/orderline.db", "SQLite:////tmp/x.db"):
        with pytest.raises(ValueError) as refused:
            Settings.from_env({"ORDERLINE_MULTI_HOST": "true", "DATABASE_URL": url, **DEV})
        assert str(refused.value).startswith("DATABASE_URL is SQLite") and "\n" not in str(refused.value)
    with pytest.raises(ValueError, match="ORDERLINE_MULTI_HOST=true"):
        Settings.from_env({"ORDERLINE_MULTI_HOST": "1", **DEV})  # the default database is SQLite too
    s = Settings.from_env({"ORDERLINE_MULTI_HOST": "yes", "DATABASE_URL": "postgresql://db.internal/orderline", **DEV})
    assert s.orderline_multi_host
    assert not Settings.from_env(DEV).orderline_multi_host  # one host: SQLite stays the default


def test_multi_host_settings_come_from_the_environment():
    s = Settings.from_env({"RASA_URL": "http://10.0.0.21:5005,http://10.0.0.22:5005", "WEB_BIND": "10.0.0.11:8000",
                           "RASA_MODEL": "https://models.internal/orderline.tar.gz", **DEV})
    assert (s.rasa_url, s.web_bind, s.rasa_model) == ("http://10.0.0.21:5005,http://10.0.0.22:5005", "10.0.0.11:8000",
                                                      "https://models.internal/orderline.tar.gz")
    assert Settings.from_env(DEV).web_bind == "0.0.0.0:5000" and Settings.from_env(DEV).rasa_model == ""
