"""`focus serve`: the API (and, on the embedded default, everything else) in one process."""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated

import typer

from app.cli.common import fail, settings, start_metrics_server
from app.settings import ConfigurationError, check

log = logging.getLogger("app.cli")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    migrate: Annotated[
        bool | None,
        typer.Option(help="Migrate the schema first (default: only for the embedded database)."),
    ] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
) -> None:
    """Serve the API. Without DATABASE_URL it runs on an embedded PostgreSQL under ./.focus/.

    Ctrl-C or SIGTERM stops it, and the embedded PostgreSQL with it.
    """
    import uvicorn

    from app.bootstrap import build, build_app, freeze_startup_heap
    from app.database import database
    from datastore.postgres.schema import upgrade

    configured = settings()
    try:
        check(configured)  # before an embedded server is started for nothing
    except ConfigurationError as exc:
        raise fail(str(exc)) from exc
    with _stopped_by_signals(), database(configured) as url:
        if migrate if migrate is not None else configured.database_url is None:
            upgrade(url)
        try:
            app = build_app(build(configured, url))
        except ConfigurationError as exc:
            raise fail(str(exc)) from exc
        if configured.metrics_port is not None:
            # Its own port, on loopback: Cloud Run routes only the service port from outside.
            start_metrics_server(configured.metrics_port)
        freeze_startup_heap()
        uvicorn.run(app, host=host, port=port, access_log=access_log, proxy_headers=True)


class _Signalled(BaseException):
    """Like KeyboardInterrupt, not an Exception: no `except Exception` on the way swallows it."""


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """SIGTERM (Cloud Run, systemd, the tests) and SIGINT (Ctrl-C) end the block through its
    `finally`s, and the process exits 0.

    uvicorn handles both while it serves, then raises the signal again for the handler it
    found: the default one of SIGTERM would end the process before anything it started stops.
    """

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Signalled(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except _Signalled as signalled:
        log.info("serve.stopped", extra={"signal": signal.Signals(signalled.args[0]).name})
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
