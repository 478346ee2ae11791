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
    from wsgiref.simple_server import WSGIServer

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


def with_container(job: Callable[[Container], Awaitable[T]], *, long_running: bool = False) -> T:
    """Build the process's adapters from settings, run `job` on them, close them.

    `long_running`: a worker that runs until stopped. It serves its metrics on
    FOCUS_METRICS_PORT and freezes its startup heap, as `focus serve` does.
    """
    from app.bootstrap import build, freeze_startup_heap
    from app.database import database_url

    configured = settings()
    try:
        container = build(configured, database_url(configured))
    except ConfigurationError as exc:
        raise fail(str(exc)) from exc
    if long_running:
        if configured.metrics_port is not None:
            start_metrics_server(configured.metrics_port)
        freeze_startup_heap()

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


METRICS_HOST = "127.0.0.1"
"""Where a process serves its Prometheus metrics: on loopback only. Managed Prometheus' sidecar
scrapes them over the instance's localhost (terraform/run.tf); nothing else needs to reach them."""


def start_metrics_server(port: int) -> WSGIServer:
    """Serves this process's metrics on `METRICS_HOST:port` in a thread; the server (its
    `shutdown()` stops it)."""
    from prometheus_client import start_http_server

    server, _ = start_http_server(port, addr=METRICS_HOST)
    return server
