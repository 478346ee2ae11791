"""What `focus migrate backfill` and `verify` share: a job run on both stores.

Both log as the host's settings say, find the Firebase project (the emulator's demo one when
`FIRESTORE_EMULATOR_HOST` is set), open a small Postgres pool and a Firestore client, and
close both however the job ends.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from migration.cli.legacy import EMULATOR_PROJECT_ID

if TYPE_CHECKING:
    from google.cloud.firestore import AsyncClient
    from sqlalchemy.ext.asyncio import AsyncEngine

    from migration.cli.host import Host

T = TypeVar("T")


def run_on_both_stores(
    host: Host, job: Callable[[AsyncEngine, AsyncClient], Awaitable[T]], *, max_overflow: int
) -> T:
    """Runs `job` with the configured database (a pool of 2, `max_overflow` more) and Firestore."""
    from google.cloud import firestore

    from datastore.postgres.engine import create_engine

    host.configure_logging()
    emulator = os.environ.get("FIRESTORE_EMULATOR_HOST")
    project = host.firebase_project_id() or (EMULATOR_PROJECT_ID if emulator else None)
    if project is None:
        raise host.fail("set GOOGLE_CLOUD_PROJECT (or FOCUS_FIREBASE_PROJECT_ID) to the project")
    engine = create_engine(host.database_url(), pool_size=2, max_overflow=max_overflow)

    async def run() -> T:
        client = firestore.AsyncClient(project=project)
        try:
            return await job(engine, client)
        finally:
            client.close()  # type: ignore[no-untyped-call]
            await engine.dispose()

    return asyncio.run(run())
