"""The `focus` command: one module per command group, each added here.

`serve` runs the product; `db` the schema; `dev` local helpers; `openapi` the committed spec;
`events` and `tasks` the workers; `legacy` and `migrate` the Firestore data and its migration,
present only while the migration is (`migration/` removed, they go too).
Usage errors go through `common.fail` (stderr, exit code 2).
"""

from __future__ import annotations

import importlib.util

import typer

from app.cli.db import db
from app.cli.dev import dev
from app.cli.events import events
from app.cli.openapi import openapi
from app.cli.serve import serve
from app.cli.tasks import tasks

cli = typer.Typer(help="The Focus backend.", no_args_is_help=True, add_completion=False)
cli.command()(serve)
cli.add_typer(db, name="db")
cli.add_typer(dev, name="dev")
cli.add_typer(openapi, name="openapi")
cli.add_typer(events, name="events")
cli.add_typer(tasks, name="tasks")


def _migration_present() -> bool:
    try:
        return importlib.util.find_spec("migration") is not None
    except ModuleNotFoundError:
        return False


if _migration_present():
    from app.cli.legacy import legacy
    from app.cli.migrate import migrate

    cli.add_typer(legacy, name="legacy")
    cli.add_typer(migrate, name="migrate")


def main() -> None:
    cli()


__all__ = ["cli", "main"]
