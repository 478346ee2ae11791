"""What the operator sees: a progress bar per entity while it runs, and a summary after.

The bar shows documents read of the entity's total (a Firestore count, when it answers),
documents a second and the time left. The summary gives, per entity, what was read and what
became of it: inserted, replaced (a newer backend `_v`), kept (Postgres already had it),
quarantined by reason, erased (skipped), with the seconds and documents a second of this run.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from domain.migration import Entity
from migration.backfill.runner import EntitySummary


class _DocsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:,.0f} docs/s")


class RichProgress:
    """A `Progress` for the terminal (stderr, so the summary on stdout stays clean)."""

    def __init__(self, console: Console | None = None) -> None:
        self._bar = Progress(
            TextColumn("{task.description:<15}"),
            BarColumn(),
            MofNCompleteColumn(),
            _DocsPerSecond(),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
        )
        self._task: TaskID | None = None

    def started(self, entity: Entity, total: int | None, done: int) -> None:
        if self._task is None:
            self._bar.start()
        else:
            self._bar.stop_task(self._task)
        self._task = self._bar.add_task(entity.value, total=total, completed=done)

    def advanced(self, documents: int) -> None:
        if self._task is not None:
            self._bar.advance(self._task, documents)

    def ended(self, summary: EntitySummary) -> None:
        if self._task is not None:
            self._bar.update(self._task, total=summary.checkpoint.read)

    def close(self) -> None:
        self._bar.stop()


def summary_lines(summary: EntitySummary, *, dry_run: bool) -> list[str]:
    c = summary.checkpoint
    quarantined = sum(c.quarantined.values())
    inserted = "would insert" if dry_run else "inserted"
    lines = [
        f"{c.entity}: read {c.read:,}, {inserted} {c.inserted:,}, replaced {c.replaced:,},"
        f" kept {c.kept:,}, quarantined {quarantined:,}, erased {c.erased:,}"
        f" — {summary.seconds:.1f} s, {summary.docs_per_second:,.0f} docs/s"
    ]
    if c.quarantined:
        reasons = ", ".join(f"{r} {n:,}" for r, n in sorted(c.quarantined.items()))
        lines.append(f"  quarantined: {reasons}")
    if summary.resumed:
        lines.append(f"  resumed a run started {c.started_at:%Y-%m-%d %H:%M:%S}Z")
    if summary.restarted_after is not None:
        ended = f"{summary.restarted_after:%Y-%m-%d %H:%M:%S}Z"
        lines.append(f"  the previous run finished {ended}: started over from the first document")
        if c.inserted == 0 and c.replaced == 0:
            lines.append("  nothing written: every record was already in Postgres")
    return lines
