"""What every `focus` command shares: settings with logging, the one usage error, and a
job run on the process's adapters until it ends or a signal stops it."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import typer

from app import logs
from app.settings import ConfigurationError, Settings

if TYPE_CHECKING:
    from app.bootstrap import Container

T = TypeVar("T")


def settings() -> Settings:
    """The settings from the environment, with logging configured as they say."""
    configured = Settings()
    logs.configure(
        configured.log_level, json=configured.log_json, project_id=configured.firebase_project_id
    )
    return configured


def fail(message: str) -> typer.Exit:
    """A usage error: said on stderr, exit code 2."""
    typer.secho(f"error: {message}", err=True, fg="red")
    return typer.Exit(code=2)


def with_container(job: Callable[[Container], Awaitable[T]], *, serve_metrics: bool = False) -> T:
    """Build the process's adapters from settings, run `job` on them, close them.

    `serve_metrics`: a long-running worker serves its metrics on FOCUS_METRICS_PORT.
    """
    from app.bootstrap import build
    from app.database import database_url

    configured = settings()
    try:
        container = build(configured, database_url(configured))
    except ConfigurationError as exc:
        raise fail(str(exc)) from exc
    if serve_metrics and configured.metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(configured.metrics_port)

    async def run() -> T:
        try:
            await container.start(repair_mirrors=False)
            return await job(container)
        finally:
            await container.aclose()

    return asyncio.run(run())


async def until_signalled(loop: Callable[[asyncio.Event], Awaitable[None]]) -> int:
    """Run `loop` until Ctrl-C or SIGTERM sets its stop event (it finishes its batch)."""
    stop = asyncio.Event()
    running = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        running.add_signal_handler(sig, stop.set)
    await loop(stop)
    return 0
