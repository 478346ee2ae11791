"""`focus migrate backfill`: stream Firestore into Postgres, resumable, without overwriting."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from domain.migration import Entity
from migration.cli.host import Host
from migration.cli.stores import run_on_both_stores

if TYPE_CHECKING:
    from google.cloud.firestore import AsyncClient
    from sqlalchemy.ext.asyncio import AsyncEngine

    from migration.backfill import BackfillOptions, EntitySummary


def backfill_command(
    ctx: typer.Context,
    entity: Annotated[
        Entity | None, typer.Argument(help="Only this entity (default: all, users first).")
    ] = None,
    batch: Annotated[
        int, typer.Option(help="Documents per page and per transaction.")
    ] = 2000,  # migration.backfill.runner.DEFAULT_BATCH (imported lazily, as the rest)
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

    host = Host.of(ctx)
    if max_rate is not None and max_rate <= 0:
        raise host.fail(f"--max-rate must be positive (got {max_rate})")
    try:
        options = BackfillOptions(entity, batch, dry_run, max_rate)
        summaries = _run(host, options)
    except BackfillRefused as exc:
        raise host.fail(str(exc)) from exc
    _print(summaries, options)


def _run(host: Host, options: BackfillOptions) -> Sequence[EntitySummary]:
    from migration.backfill import Backfill
    from migration.backfill.progress import RichProgress
    from migration.postgres.backfill import PostgresBackfillStore

    async def job(engine: AsyncEngine, client: AsyncClient) -> Sequence[EntitySummary]:
        progress = RichProgress()
        try:
            backfill = Backfill(client, PostgresBackfillStore(engine), options, progress=progress)
            return await backfill.run()
        finally:
            progress.close()

    return run_on_both_stores(host, job, max_overflow=0)


def _print(summaries: Sequence[EntitySummary], options: BackfillOptions) -> None:
    from migration.backfill.progress import summary_lines

    if options.dry_run:
        typer.echo("dry run: nothing was written")
    for summary in summaries:
        typer.echo("\n".join(summary_lines(summary, dry_run=options.dry_run)))
