"""`focus db`: the Postgres schema's revisions (Alembic)."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import settings

db = typer.Typer(help="The Postgres schema: its revisions (Alembic).", no_args_is_help=True)


@db.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply the schema revisions up to REVISION (default: the newest)."""
    from app.database import database_url
    from datastore.postgres.schema import upgrade

    upgrade(database_url(settings()), revision)
    typer.echo(f"database at {revision}")


@db.command("current")
def db_current() -> None:
    """Print the database's schema revision and the newest one the code knows."""
    from app.database import database_url
    from datastore.postgres.schema import current, head

    typer.echo(f"current: {current(database_url(settings())) or 'empty'}\nhead: {head()}")
