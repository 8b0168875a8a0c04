"""The attack tests start from a clean sign-in throttle: tests that use Redis get the run's database
flushed (the `redis_url` fixture in tests/conftest.py), so no attempts carry over between tests."""
