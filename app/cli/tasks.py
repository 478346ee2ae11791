"""`focus tasks`: the worker of delayed jobs on the Postgres queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import until_signalled, with_container

if TYPE_CHECKING:
    from app.bootstrap import Container

tasks = typer.Typer(help="Delayed jobs (the Postgres queue).", no_args_is_help=True)


@tasks.command("work")
def tasks_work(
    once: Annotated[bool, typer.Option(help="Run what is due, then exit.")] = False,
) -> None:
    """Run due delayed jobs until stopped (Ctrl-C or SIGTERM)."""

    async def job(container: Container) -> int:
        if once:
            return await container.task_worker.drain()
        return await until_signalled(container.task_worker.run_until)

    ran = with_container(job, long_running=not once)
    if once:
        typer.echo(f"ran {ran} task(s)")
