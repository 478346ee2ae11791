"""`focus migrate verify`: compare Firestore and Postgres per entity, optionally repair.

Exit codes: 0 when every entity compared equal (after the repair, with `--repair`), 1 on any
divergence, 2 on a usage error. Output names records by id and fields by name, never values.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from domain.migration import Entity, VerificationMode
from migration.cli.host import Host
from migration.cli.stores import run_on_both_stores

if TYPE_CHECKING:
    from google.cloud.firestore import AsyncClient
    from sqlalchemy.ext.asyncio import AsyncEngine

    from migration.verify import Options, Outcome, Tally

DEFAULT_SAMPLE = 1000


def verify_command(
    ctx: typer.Context,
    entity: Annotated[
        Entity | None, typer.Argument(help="One entity (default: all, owners first).")
    ] = None,
    sample: Annotated[
        int | None,
        typer.Option(help=f"Compare N random records of each store (default {DEFAULT_SAMPLE})."),
    ] = None,
    full: Annotated[bool, typer.Option(help="Compare every record of both stores.")] = False,
    repair: Annotated[
        bool, typer.Option(help="Fix the follower from the phase's source of truth.")
    ] = False,
    seed: Annotated[
        int | None, typer.Option(help="Repeat a sample (same data, same draw).")
    ] = None,
    settle: Annotated[
        float,
        typer.Option(
            min=0,
            help="Compare divergent records again after this many seconds: writes in flight"
            " on a live system agree by then (0: no second look).",
        ),
    ] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
) -> None:
    """Compare both stores per entity; exit 1 on any missing, extra or different record."""
    from migration.verify import ORDER, Options

    host = Host.of(ctx)
    if sample is not None and full:
        raise host.fail("--sample and --full exclude each other")
    if sample is not None and sample <= 0:
        raise host.fail("--sample needs a number of records above 0")
    mode = VerificationMode.FULL if full else VerificationMode.SAMPLE
    options = Options(mode, sample or DEFAULT_SAMPLE, repair, seed, settle)
    entities = [entity] if entity is not None else list(ORDER)
    outcomes = _run(host, entities, options)
    if as_json:
        typer.echo(json.dumps([_as_json(outcome) for outcome in outcomes], indent=2))
    else:
        _print(outcomes)
    if any(not outcome.final.passed for outcome in outcomes):
        raise typer.Exit(code=1)


def _run(host: Host, entities: list[Entity], options: Options) -> list[Outcome]:
    from migration.postgres.migration_phases import PostgresPhaseStore
    from migration.verify import Verifier

    async def job(engine: AsyncEngine, client: AsyncClient) -> list[Outcome]:
        verifier = Verifier(engine, client, PostgresPhaseStore(engine))
        return [await verifier.verify(entity, options) for entity in entities]

    return run_on_both_stores(host, job, max_overflow=2)


def _counts(tally: Tally) -> list[str]:
    from migration.verify import Divergence

    return [
        str(tally.compared),
        *(str(tally.count(kind)) for kind in Divergence),
        str(sum(tally.quarantined.values())),
    ]


def _print(outcomes: list[Outcome]) -> None:
    console = Console(soft_wrap=True)
    for outcome in outcomes:
        table = Table(title=f"{outcome.entity} ({outcome.options.mode})", title_justify="left")
        for column in ("", "compared", "missing", "extra", "different", "quarantined"):
            table.add_column(column, justify="left" if not column else "right")
        table.add_row("found", *_counts(outcome.found))
        if outcome.after is not None:
            table.add_row("after repair", *_counts(outcome.after))
        console.print(table)
        for line in _details(outcome):
            console.print(line, markup=False, highlight=False)
    failed = [o.entity.value for o in outcomes if not o.final.passed]
    verdict = f"FAILED: {', '.join(failed)}" if failed else "passed"
    console.print(f"verify ({len(outcomes)} entities): {verdict}", markup=False, highlight=False)


def _details(outcome: Outcome) -> list[str]:
    tally = outcome.found
    lines = [f"  fields: {_by_count(tally.fields)}"] if tally.fields else []
    if tally.quarantined:
        lines.append(f"  quarantined: {_by_count(tally.quarantined)}")
    if tally.in_flight:
        lines.append(f"  in flight (agreed when compared again): {tally.in_flight}")
    lines += [f"  {kind}: {', '.join(ids)}" for kind, ids in tally.examples.items()]
    if outcome.source is not None:
        unrepaired = f", left: {_by_count(outcome.unrepaired)}" if outcome.unrepaired else ""
        lines.append(
            f"  repair from {outcome.source}: {outcome.repaired} records written{unrepaired}"
        )
    return lines


def _by_count(counts: Any) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.most_common())


def _as_json(outcome: Outcome) -> dict[str, Any]:
    from migration.verify import Divergence

    def tally(t: Tally) -> dict[str, Any]:
        return {
            "compared": t.compared,
            **{kind.value: t.counts[kind] for kind in Divergence},
            "in_flight": t.in_flight,
            "fields": dict(t.fields),
            "quarantined": dict(t.quarantined),
            "examples": t.examples,
            "passed": t.passed,
        }

    return {
        "entity": outcome.entity.value,
        "mode": outcome.options.mode.value,
        "found": tally(outcome.found),
        "repair": None
        if outcome.source is None
        else {
            "source": outcome.source.value,
            "repaired": outcome.repaired,
            "unrepaired": outcome.unrepaired,
        },
        "after": None if outcome.after is None else tally(outcome.after),
    }
