"""`focus migrate backfill`: stream Firestore into Postgres, resumable, without overwriting."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from app import logs
from app.settings import ConfigurationError, Settings
from domain.migration import Entity

if TYPE_CHECKING:
    from migration.backfill import BackfillOptions, EntitySummary

EMULATOR_PROJECT_ID = "demo-focus"


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg="red")
    return typer.Exit(code=2)


def backfill_command(
    entity: Annotated[
        Entity | None, typer.Argument(help="Only this entity (default: all, users first).")
    ] = None,
    batch: Annotated[int, typer.Option(help="Documents per page and per transaction.")] = 500,
    dry_run: Annotated[
        bool, typer.Option(help="Map and count from the first document; write nothing.")
    ] = False,
    max_rate: Annotated[
        float | None, typer.Option(help="Firestore reads a second at most (the ramp's cap).")
    ] = None,
) -> None:
    """Copy Firestore into Postgres in document order, resuming from the last checkpoint.

    Rows already in Postgres are kept; unmappable documents go to the quarantine table.
    Exits 2 on bad options or when the backfill cannot run as asked.
    """
    from migration.backfill import BackfillOptions, BackfillRefused

    if max_rate is not None and max_rate <= 0:
        raise _fail(f"--max-rate must be positive (got {max_rate})")
    try:
        options = BackfillOptions(entity, batch, dry_run, max_rate)
        summaries = _run(options)
    except BackfillRefused as exc:
        raise _fail(str(exc)) from exc
    _print(summaries, options)


def _run(options: BackfillOptions) -> Sequence[EntitySummary]:
    from google.cloud import firestore

    from app.database import database_url
    from datastore.postgres.backfill import PostgresBackfillStore
    from datastore.postgres.engine import create_engine
    from migration.backfill import Backfill
    from migration.backfill.progress import RichProgress

    settings = Settings()
    logs.configure(settings.log_level, json=settings.log_json)
    emulator = os.environ.get("FIRESTORE_EMULATOR_HOST")
    project = settings.firebase_project_id or (EMULATOR_PROJECT_ID if emulator else None)
    if project is None:
        raise _fail("set GOOGLE_CLOUD_PROJECT (or FOCUS_FIREBASE_PROJECT_ID) to the project")
    try:
        engine = create_engine(database_url(settings), pool_size=2, max_overflow=0)
    except ConfigurationError as exc:
        raise _fail(str(exc)) from exc

    async def run() -> Sequence[EntitySummary]:
        progress = RichProgress()
        client = firestore.AsyncClient(project=project)
        try:
            backfill = Backfill(client, PostgresBackfillStore(engine), options, progress=progress)
            return await backfill.run()
        finally:
            progress.close()
            client.close()  # type: ignore[no-untyped-call]
            await engine.dispose()

    return asyncio.run(run())


def _print(summaries: Sequence[EntitySummary], options: BackfillOptions) -> None:
    from migration.backfill.progress import summary_lines

    if options.dry_run:
        typer.echo("dry run: nothing was written")
    for summary in summaries:
        typer.echo("\n".join(summary_lines(summary, dry_run=options.dry_run)))
