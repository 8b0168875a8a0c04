"""`flask --app app ...` commands: schema, import, demo data, dev token. An entry point of the wiring."""
from __future__ import annotations

import json
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from orderline.db import upgrade_schema
from orderline.demo import demo_orders
from orderline.importer import import_orders
from orderline.models import Order
from wiring.services import Services

SERVICES_KEY = "orderline.services"


def services() -> Services:
    """The container the app factory built; CLI commands are entry points, so they may use it whole."""
    return current_app.extensions[SERVICES_KEY]


def register(app: Flask, container: Services) -> None:
    app.extensions[SERVICES_KEY] = container
    app.cli.add_command(db_group)
    app.cli.add_command(orders_group)
    app.cli.add_command(dev_token)


@click.group("db", cls=AppGroup, help="Database schema.")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Create or migrate the schema to the newest revision.")
def db_upgrade() -> None:
    upgrade_schema(services().settings.database_url)
    click.echo("schema is up to date")


@click.group("orders", cls=AppGroup, help="Order data.")
def orders_group() -> None:
    pass


@orders_group.command("import", help="Upsert orders from a JSON array file, by order_id.")
@click.argument("file", type=click.File("r", encoding="utf-8"))
def import_cmd(file) -> None:
    svc = services()
    upgrade_schema(svc.settings.database_url)
    try:
        rows = json.load(file)
    except ValueError as exc:
        raise click.ClickException(f"{file.name} is not valid JSON: {exc}") from exc
    report = import_orders(svc.sessions, rows)
    for index, oid, message in report.errors:
        click.echo(f"row {index} ({oid or 'no order_id'}): {message}", err=True)
    click.echo(f"imported {report.ok} orders ({report.created} new, {report.updated} updated), "
               f"{len(report.errors)} rows rejected")
    if report.errors and not report.ok:
        sys.exit(1)


@orders_group.command("seed", help="Load the demo orders (about 40, fake phones).")
@click.option("--if-empty", is_flag=True, help="Only when the database has no orders yet.")
def seed_cmd(if_empty: bool) -> None:
    svc = services()
    upgrade_schema(svc.settings.database_url)
    if if_empty:
        with svc.sessions() as session:
            if session.scalar(select(func.count()).select_from(Order)):
                click.echo("database already has orders; not seeding")
                return
    report = import_orders(svc.sessions, demo_orders(svc.clock.now()), actor="seed")
    for index, oid, message in report.errors:
        click.echo(f"row {index} ({oid}): {message}", err=True)
    click.echo(f"seeded {report.ok} demo orders")
    if report.errors:
        sys.exit(1)


@click.command("dev-token", help="Print the API token in use (generated for development if unset).")
@with_appcontext
def dev_token() -> None:
    click.echo(services().settings.api_token)
