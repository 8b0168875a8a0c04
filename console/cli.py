"""`flask --app app agents ...`: manage console sign-ins."""
from __future__ import annotations

import sys

import click

from console import bp
from console.agents import AgentError, create_agent, list_agents
from console.deps import deps

bp.cli.help = "Agents who sign in to the console at /agent."


@bp.cli.command("create", help="Add an agent who can sign in to /agent.")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def create_cmd(name: str, password_stdin: bool) -> None:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        agent = create_agent(deps().sessions, name, password)
    except AgentError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created agent {agent.name} (id {agent.id})")


@bp.cli.command("list", help="List the agents.")
def list_cmd() -> None:
    for agent in list_agents(deps().sessions):
        click.echo(f"{agent.id}\t{agent.name}")
