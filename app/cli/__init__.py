"""The `focus` command: one module per command group, each added here.

`serve` runs the product; `db` the schema; `dev` local helpers; `openapi` the committed spec;
`events` and `tasks` the workers; `privacy` data-subject requests, for compliance staff;
`exports` the growth team's pseudonymised exports. The
Firestore migration brings its own groups (`legacy`, `migrate`: `migration/cli/`), added only
while `migration/` is there; they get what they need of the app through a `migration.cli.Host`
built here.
Usage errors go through `common.fail` (stderr, exit code 2).
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

import typer

from app.cli.common import fail, settings
from app.cli.db import db
from app.cli.dev import dev
from app.cli.events import events
from app.cli.exports import exports
from app.cli.openapi import openapi
from app.cli.privacy import privacy
from app.cli.serve import serve
from app.cli.staff import staff
from app.cli.tasks import tasks
from app.settings import ConfigurationError, Environment, Settings

if TYPE_CHECKING:
    from migration.cli import Host

cli = typer.Typer(help="The Focus backend.", no_args_is_help=True, add_completion=False)
cli.command()(serve)
cli.add_typer(db, name="db")
cli.add_typer(dev, name="dev")
cli.add_typer(openapi, name="openapi")
cli.add_typer(events, name="events")
cli.add_typer(tasks, name="tasks")
cli.add_typer(privacy, name="privacy")
cli.add_typer(staff, name="staff")
cli.add_typer(exports, name="exports")


def _migration_present() -> bool:
    try:
        return importlib.util.find_spec("migration.cli") is not None
    except ModuleNotFoundError:
        return False


def _configure_logging() -> None:
    settings()


def _database_url() -> str:
    from app.database import database_url

    try:
        return database_url(Settings())
    except ConfigurationError as exc:
        raise fail(str(exc)) from exc


def _migration_host() -> Host:
    """The settings and the usage error the migration's commands use, read as each runs."""
    from migration.cli import Host

    return Host(
        fail=fail,
        configure_logging=_configure_logging,
        database_url=_database_url,
        firebase_project_id=lambda: Settings().firebase_project_id,
        is_production=lambda: Settings().env is Environment.PRODUCTION,
    )


if _migration_present():
    from migration.cli import register

    register(cli, _migration_host())


def main() -> None:
    cli()


__all__ = ["cli", "main"]
