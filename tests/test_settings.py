from orderline.settings import Settings


def test_env_beats_dotenv(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("DATABASE_URL=sqlite:////from/dotenv.db\nRASA_URL=http://dotenv:5005\n")
    import os
    old = dict(os.environ)
    try:
        os.environ["DATABASE_URL"] = "sqlite:////from/env.db"
        os.environ.pop("RASA_URL", None)
        s = Settings.from_env(dotenv_path=dotenv)
    finally:
        os.environ.clear(); os.environ.update(old)
    assert s.database_url == "sqlite:////from/env.db"  # the real environment wins
    assert s.rasa_url == "http://dotenv:5005"  # .env fills the gap


def test_defaults_and_relative_sqlite_is_anchored():
    s = Settings.from_env({"API_TOKEN": "t", "SECRET_KEY": "k", "SHIPROCKET_WEBHOOK_TOKEN": "s"})
    assert s.redis_url == "redis://localhost:6379/0" and s.twilio_api_base_url == "https://api.twilio.com"
    assert s.sqlalchemy_url.startswith("sqlite:////") and s.sqlalchemy_url.endswith("instance/orderline.db")
    assert not s.api_token_generated


def test_missing_token_is_generated_and_stable():
    a = Settings.from_env({})
    b = Settings.from_env({})
    assert a.api_token_generated and len(a.api_token) >= 20 and a.api_token == b.api_token


def test_simulator_is_on_in_development_and_off_in_production():
    assert Settings.from_env({}).simulator_on
    assert not Settings.from_env({"ORDERLINE_ENV": "production"}).simulator_on
    assert Settings.from_env({"ORDERLINE_ENV": "Production ", "SIMULATOR_ENABLED": "true"}).simulator_on
    assert not Settings.from_env({"SIMULATOR_ENABLED": "0"}).simulator_on  # explicit wins in development too


def test_bad_environment_or_flag_is_refused():
    import pytest

    with pytest.raises(ValueError, match="ORDERLINE_ENV"):
        Settings.from_env({"ORDERLINE_ENV": "staging"})
    with pytest.raises(ValueError, match="SIMULATOR_ENABLED must be true or false"):
        Settings.from_env({"SIMULATOR_ENABLED": "maybe"})
