"""`focus migrate`: each entity's way from Firestore to Postgres, one guarded phase at a time."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from domain.common import utc_now
from domain.migration import (
    Entity,
    Phase,
    PhaseChangedMeanwhile,
    PhaseTransitionRefused,
    Verification,
)
from migration.cli.backfill import backfill_command
from migration.cli.host import Host
from migration.cli.verify import verify_command

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from domain.migration import PhaseStore

T = TypeVar("T")

migrate = typer.Typer(
    help="The Firestore → Postgres migration: phases per entity, verification.",
    no_args_is_help=True,
)


def _with_store(host: Host, job: Callable[[PhaseStore], Awaitable[T]]) -> T:
    """Runs `job` on the phase store of the configured database (no full container needed)."""
    from migration.postgres.migration_phases import PostgresPhaseStore

    return _with_engine(host, lambda engine: job(PostgresPhaseStore(engine)))


def _with_engine(host: Host, job: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Runs `job` on an engine of the configured database, disposed of afterwards."""
    from datastore.postgres.engine import create_engine

    host.configure_logging()
    engine = create_engine(host.database_url(), pool_size=1, max_overflow=1)

    async def run() -> T:
        try:
            return await job(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@migrate.command("phase")
def migrate_phase(
    ctx: typer.Context,
    entity: Annotated[Entity, typer.Argument(help="The entity to move.")],
    phase: Annotated[Phase, typer.Argument(help="The phase to move it to.")],
    force: Annotated[
        bool, typer.Option(help="Allow skipping a phase (never a missing verification).")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Why, for the audit trail.")] = None,
    by: Annotated[str | None, typer.Option(help="Who is changing it (default: $USER).")] = None,
) -> None:
    """Move ENTITY to PHASE: one phase at a time, reads to Postgres only after a recent verify.

    Exits 2 when a guardrail refuses the move, saying why.
    """
    from migration.phase_control import change_phase

    host = Host.of(ctx)
    who = by or os.environ.get("USER")
    if not who:
        raise host.fail("who is changing the phase? pass --by NAME (or set USER)")
    try:
        change = _with_store(
            host,
            lambda store: change_phase(
                store, entity, phase, force=force, by=who, reason=reason, now=utc_now()
            ),
        )
    except (PhaseTransitionRefused, PhaseChangedMeanwhile) as exc:
        raise host.fail(f"{entity}: {exc.detail}") from exc
    forced = " (forced: a phase was skipped)" if change.forced else ""
    typer.echo(f"{entity}: {change.from_phase} → {change.to_phase}{forced}")


@migrate.command("status")
def migrate_status(ctx: typer.Context) -> None:
    """Every entity's phase, since when, its last verification, and the mirrors owed."""
    from migration.postgres.migration_phases import PostgresPhaseStore
    from migration.postgres.pending_mirrors import PostgresMirrorQueue

    async def job(engine: AsyncEngine) -> tuple[list[tuple[str, ...]], str]:
        store = PostgresPhaseStore(engine)
        phases = await store.current()
        rows: list[tuple[str, ...]] = []
        for entity in Entity:
            last_change = await store.history(entity, limit=1)
            since = last_change[0].at if last_change else None
            verified = await store.last_verification(entity)
            rows.append((entity.value, phases[entity].value, _when(since), *_verified(verified)))
        pending, oldest = await PostgresMirrorQueue(engine).backlog()
        owed = f"Firestore mirrors pending: {pending}"
        if oldest is not None:
            owed += f" (oldest {_age(utc_now() - oldest)} old)"
        return rows, owed

    header = ("ENTITY", "PHASE", "SINCE", "LAST VERIFIED", "RESULT", "AGE")
    entities, owed = _with_engine(Host.of(ctx), job)
    rows = [header, *entities]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        typer.echo("  ".join(cells).rstrip())
    typer.echo(owed)


def _when(instant: datetime | None) -> str:
    return "-" if instant is None else instant.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def _verified(v: Verification | None) -> tuple[str, str, str]:
    if v is None:
        return ("never", "-", "-")
    result = (
        f"passed ({v.mode})"
        if v.passed
        else f"FAILED ({v.mode}: missing {v.missing}, extra {v.extra}, different {v.different})"
    )
    return (_when(v.finished_at), result, _age(utc_now() - v.finished_at))


def _age(age: timedelta) -> str:
    minutes = max(0, int(age.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return f"{days}d{hours}h" if days else f"{hours}h{minutes:02d}m"


migrate.command("backfill")(backfill_command)
migrate.command("verify")(verify_command)
