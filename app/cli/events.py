"""`focus events`: the outbox relay worker, and replaying what consumers gave up on."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import until_signalled, with_container

if TYPE_CHECKING:
    from app.bootstrap import Container

events = typer.Typer(help="The event outbox and its consumers.", no_args_is_help=True)


async def _relay_and_repair(stop: asyncio.Event, container: Container) -> None:
    """The relay worker also repairs pending Firestore mirrors while a migration runs."""
    from events.runner import relay_until

    loops = [relay_until(stop, container.relay)]
    if container.migration is not None:
        loops.append(container.migration.mirroring.run_until(stop))
    await asyncio.gather(*loops)


@events.command("relay")
def events_relay(
    once: Annotated[bool, typer.Option(help="Publish what is pending, then exit.")] = False,
) -> None:
    """Publish outbox events (to Pub/Sub in production) until stopped with Ctrl-C or SIGTERM.

    While the Firestore migration runs (FOCUS_LEGACY_FIRESTORE), also repair pending mirrors.
    """

    async def job(container: Container) -> int:
        if once:
            return await container.relay.drain()
        return await until_signalled(lambda stop: _relay_and_repair(stop, container))

    published = with_container(job, long_running=not once)
    if once:
        typer.echo(f"published {published} event(s)")


@events.command("replay")
def events_replay(
    subscription: Annotated[
        str | None, typer.Option(help="Only this subscription's failures (default: all).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many messages.")] = 1000,
) -> None:
    """Run messages that consumers gave up on (poison, or out of attempts) again.

    Each one that now succeeds is marked replayed; the others stay for a later replay.
    Exits non-zero when some still fail.
    """
    report = with_container(lambda container: container.consumer.replay(subscription, limit))
    typer.echo(
        f"replayed {report.replayed}, still failing {report.still_failing},"
        f" skipped {report.skipped} (no such subscription here)"
    )
    if report.still_failing:
        raise typer.Exit(code=1)
