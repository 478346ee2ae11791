"""`focus exports`: the growth team's pseudonymised exports (ADR 0020, docs/exports.md).

`run` exports every dataset (or those named) from its watermark and publishes each with a
manifest, showing progress; `status` shows each dataset's watermark, last runs and the erased
people still to compact; `compact` removes erased people's rows from published files.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import fail, with_container
from app.cli.privacy_views import console, table
from domain.growth.contract import BY_NAME, DATASETS

if TYPE_CHECKING:
    from app.bootstrap import Container
    from exports.runner import GrowthExporter, Progress

exports = typer.Typer(
    help="Growth exports: pseudonymised Parquet for the growth team.", no_args_is_help=True
)
PROGRESS_EVERY = 100_000
RUNS_SHOWN = 3


def _exporter(container: Container) -> GrowthExporter:
    if container.growth is None:
        raise fail("no growth bucket here: set FOCUS_GROWTH_BUCKET (with FOCUS_FILES=gcs)")
    return container.growth


@exports.command()
def run(
    dataset: Annotated[
        list[str] | None,
        typer.Option(help=f"Only this dataset (repeatable): {', '.join(BY_NAME)}"),
    ] = None,
    since: Annotated[
        int | None,
        typer.Option(min=0, help="Export again from this watermark (a manifest's `lower`)"),
    ] = None,
    until: Annotated[
        int | None,
        typer.Option(min=1, help="…up to this one (a manifest's `upper`), with --since"),
    ] = None,
    compact_after: Annotated[
        bool, typer.Option("--compact", help="Then remove erased people's rows (the daily job)")
    ] = False,
) -> None:
    """Export what changed since each dataset's watermark, and publish it."""
    if until is not None and (since is None or until <= since):
        raise fail("--until needs --since, and must be above it")
    unknown = sorted(set(dataset or ()) - set(BY_NAME))
    if unknown:
        raise fail(f"no such dataset: {', '.join(unknown)} (known: {', '.join(BY_NAME)})")
    shown: dict[str, int] = {}

    def report(progress: Progress) -> None:
        if progress.rows - shown.get(progress.dataset, 0) >= PROGRESS_EVERY:
            shown[progress.dataset] = progress.rows
            typer.echo(f"{progress.dataset}: {progress.rows:,} rows…", err=True)

    async def job(container: Container) -> tuple[list[Progress], dict[str, int] | None]:
        exporter = _exporter(container)
        done = await exporter.run(dataset or (), since=since, until=until, report=report)
        return done, await exporter.compact() if compact_after else None

    done, removed = with_container(job)
    rows = [
        (p.dataset, p.window.lower, p.window.upper, p.rows, p.files,
         "resumed" if p.resumed else ("nothing new" if p.window.empty else "published"))
        for p in done
    ]  # fmt: skip
    console().print(table(("dataset", "from", "to", "rows", "files", "run"), rows))
    if removed is not None:
        typer.echo(
            f"compacted: rewrote {removed['files']} file(s), removed {removed['rows']} row(s)"
        )


@exports.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Each dataset's watermark and latest runs, and erased people still to compact."""

    async def job(container: Container) -> dict[str, object]:
        store = _exporter(container).store
        datasets = {}
        for d in DATASETS:
            runs = await store.runs(d.name, RUNS_SHOWN)
            datasets[d.name] = {
                "watermark": await store.watermark(d.name),
                "runs": [
                    {"lower": r.window.lower, "upper": r.window.upper, "state": r.state,
                     "started_at": r.started_at.isoformat(),
                     "published_at": r.published_at.isoformat() if r.published_at else None,
                     "rows": r.rows, "files": r.files}
                    for r in runs
                ],
            }  # fmt: skip
        return {"datasets": datasets, "to_compact": len(await store.forgotten())}

    found = with_container(job)
    if as_json:
        typer.echo(json.dumps(found, indent=2, sort_keys=True))
        return
    datasets = found["datasets"]
    assert isinstance(datasets, dict)
    rows = []
    for name, info in datasets.items():
        last = info["runs"][0] if info["runs"] else None
        rows.append((
            name, info["watermark"], last["state"] if last else "never run",
            (last["published_at"] or last["started_at"])[:19] if last else "",
            last["rows"] if last else "",
        ))  # fmt: skip
    console().print(table(("dataset", "watermark", "last run", "at (UTC)", "rows"), rows))
    typer.echo(f"erased people still in published files: {found['to_compact']}")


@exports.command()
def compact() -> None:
    """Remove erased people's rows from every published file, then forget them."""

    async def job(container: Container) -> dict[str, int]:
        return await _exporter(container).compact()

    removed = with_container(job)
    typer.echo(f"rewrote {removed['files']} file(s), removed {removed['rows']} row(s)")
