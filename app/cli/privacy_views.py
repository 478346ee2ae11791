"""How `focus privacy` shows data-subject requests to staff: the clock (paused, at risk,
overdue), a request's card, its steps, JSON output. The subject appears only as the prefix of
its keyed hash, never by uid."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from domain.privacy.model import RequestState
from domain.privacy.steps import Step

if TYPE_CHECKING:
    from domain.privacy.model import PrivacyRequest

HASH_PREFIX = 12
_NUMBERS = ("#", "attempts", "count", "days left", "records found")


def clock(request: PrivacyRequest, now: datetime) -> dict[str, Any]:
    """The deadline as staff watch it (the clock is paused while identity is unverified)."""
    due, is_open = request.due_at(now), request.state.open
    paused = is_open and request.state is RequestState.RECEIVED
    overdue = is_open and not paused and due < now
    at_risk = request.at_risk(now)
    marker = "PAUSED" if paused else "OVERDUE" if overdue else "AT RISK" if at_risk else ""
    days_left = math.floor((due - now).total_seconds() / 86400) if is_open else None
    return {"due_at": due, "days_left": days_left, "paused": paused, "at_risk": at_risk,
            "overdue": overdue, "marker": marker}  # fmt: skip


_SHOWN = ("id", "kind", "state", "channel", "created_by", "received_at", "verification",
          "approved_by", "extensions", "outcome", "finished_at")  # fmt: skip
"""What of a request is shown: never the subject's uid (nor a field added later)."""


def request_json(request: PrivacyRequest, now: datetime) -> dict[str, Any]:
    shown = {name: getattr(request, name) for name in _SHOWN}
    return {**shown, "subject": request.subject_hash[:HASH_PREFIX], **clock(request, now)}


def plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Step):
        return {k: v for k, v in asdict(value).items() if k != "request_id"}
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return str(value)


def echo_json(document: Any) -> None:
    typer.echo(json.dumps(document, indent=2, default=plain))


def day(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%d")


def console() -> Console:
    shown = Console(highlight=False)
    return shown if shown.is_terminal else Console(highlight=False, width=160)


def card(request: PrivacyRequest, now: datetime) -> Table:
    deadline, v = clock(request, now), request.verification
    due = day(deadline["due_at"])
    if deadline["days_left"] is not None:
        due = f"{due} ({deadline['days_left']} days left) {deadline['marker']}".rstrip()
    rows = [
        ("id", str(request.id)),
        ("kind", request.kind),
        ("state", request.state),
        ("subject", f"{request.subject_hash[:HASH_PREFIX]}…"),
        ("channel", f"{request.channel}, opened by {request.created_by}"),
        ("received", day(request.received_at)),
        ("due", due),
        ("verified", v and f"{v.method} by {v.by}, {day(v.at)}"),
        ("approved by", request.approved_by),
        *(("extended", f"+{e.months} month(s) by {e.by}, {day(e.at)}: {e.reason}")
          for e in request.extensions),
        ("outcome", request.outcome),
        ("finished", request.finished_at and day(request.finished_at)),
    ]  # fmt: skip
    return table((), [(key, value) for key, value in rows if value])


def table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Table:
    """A table with these headers (none: a card of names and values)."""
    built = Table(*columns) if columns else Table(show_header=False, box=None, pad_edge=False)
    for column in built.columns:
        column.justify = "right" if column.header in _NUMBERS else "left"
    for row in rows:
        built.add_row(*(Text("" if cell is None else str(cell)) for cell in row))  # no markup
    return built


def steps_table(steps: Sequence[Step]) -> Table:
    columns = ("#", "step", "state", "attempts", "error", "count", "detail")
    details = [", ".join(f"{k} {v}" for k, v in sorted((s.detail or {}).items())) for s in steps]
    rows = [(s.position, s.name, s.state, s.attempts, s.error, s.count, detail)
            for s, detail in zip(steps, details, strict=True)]  # fmt: skip
    return table(columns, rows)


def show(
    request: PrivacyRequest,
    now: datetime,
    as_json: bool,
    headline: str = "",
    steps: Sequence[Step] | None = None,
    **extra: Any,
) -> None:
    shown = {**request_json(request, now), **extra}
    if as_json:
        echo_json(shown if steps is None else {"request": shown, "steps": steps})
        return
    if headline:
        typer.echo(headline)
    console().print(card(request, now))
    if steps is not None:
        typer.echo("steps")
        console().print(steps_table(steps))
