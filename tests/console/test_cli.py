"""`flask --app app agents create NAME` and `agents list`."""
from __future__ import annotations

from tests.support.agent_console import sign_in


def test_create_agent_from_stdin_then_sign_in(runner, app):
    result = runner.invoke(args=["agents", "create", "meera", "--password-stdin"], input="s3cret-enough\n")
    assert result.exit_code == 0, result.output
    assert "created agent meera" in result.output
    assert sign_in(app.test_client(), "meera", "s3cret-enough").status_code == 302
    assert "meera" in runner.invoke(args=["agents", "list"]).output


def test_create_agent_prompts_twice_for_the_password(runner, app):
    result = runner.invoke(args=["agents", "create", "kabir"], input="another-secret\nanother-secret\n")
    assert result.exit_code == 0, result.output
    assert "another-secret" not in result.output  # hidden input
    assert sign_in(app.test_client(), "kabir", "another-secret").status_code == 302


def test_create_agent_refuses_duplicates_short_passwords_and_bad_names(runner):
    assert runner.invoke(args=["agents", "create", "meera", "--password-stdin"], input="s3cret-enough\n").exit_code == 0
    dup = runner.invoke(args=["agents", "create", "meera", "--password-stdin"], input="s3cret-enough\n")
    assert dup.exit_code != 0 and "already exists" in dup.output
    short = runner.invoke(args=["agents", "create", "zoya", "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "at least 8" in short.output
    bad = runner.invoke(args=["agents", "create", "<script>", "--password-stdin"], input="s3cret-enough\n")
    assert bad.exit_code != 0 and "agent names" in bad.output
