"""The growth exports' source and bookkeeping in Postgres (ADR 0020).

A snapshot is one REPEATABLE READ transaction: its first statement fixes both what it sees
and `upper`, the snapshot's xmin (every transaction below it has finished). Before taking it,
every person who allows analytics gets a pseudonym secret, committed, so that no row of theirs
is skipped for want of one; if someone consented in between, the snapshot is taken again.
Each dataset is one query over the window, joined to the person's consent and secret,
without erased users, in a fixed order.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import anyio
from sqlalchemy import TextClause, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from datastore.postgres.tables.growth import AnalyticsKeyRow, GrowthForgetRow, GrowthRunRow
from domain.common import Clock
from domain.growth.contract import (
    DAILY_USAGE,
    DEVICES,
    EVENTS,
    FOCUS_SESSIONS,
    SCHEDULES,
    USERS,
    Dataset,
)
from domain.growth.ports import Columns, Run, Window

log = logging.getLogger(__name__)
_KEYS = AnalyticsKeyRow.__table__  # type: ignore[attr-defined]
_RUNS = GrowthRunRow.__table__  # type: ignore[attr-defined]
_FORGET = GrowthForgetRow.__table__  # type: ignore[attr-defined]
KEY_BATCH = 5_000
SNAPSHOT_ATTEMPTS = 5

_WITHOUT_KEY = text(
    "SELECT u.uid FROM users u WHERE u.consent_analytics"
    " AND NOT EXISTS (SELECT 1 FROM analytics_keys k WHERE k.user_id = u.uid)"
    " AND NOT EXISTS (SELECT 1 FROM erased_users e WHERE e.uid = u.uid)"
    " ORDER BY u.uid LIMIT :limit"
)
_UPPER = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
_XMAX = text("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
SETTLE_SECONDS = 10.0
SETTLE_POLL_SECONDS = 0.05

# The rows of a window: written by a transaction in [lower, upper); rows from before the
# column existed (NULL) belong to the first window.
_IN_WINDOW = (
    "(t.export_xid >= :lower AND t.export_xid < :upper OR (:lower = 0 AND t.export_xid IS NULL))"
)
# Every query below is built from this module's constants only (no value is ever formatted
# in: the window comes as bound parameters), hence the S608 exemptions.
_OF_CONSENTING = (
    " JOIN users u ON u.uid = t.user_id AND u.consent_analytics"  # noqa: S608
    " JOIN analytics_keys k ON k.user_id = t.user_id"
    f" WHERE {_IN_WINDOW}"
    " AND NOT EXISTS (SELECT 1 FROM erased_users e WHERE e.uid = t.user_id)"
)
_CHANGE = "coalesce(t.export_xid, 0) AS change"
# HMAC-SHA256(secret, id) from the stored pads, by the database (its sha256 is built in).
_RECORD_OF_ID = (
    "encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(t.id::text, 'UTF8'))),"
    " 'hex') AS record"
)
_RECORD_OF_INSTALLATION = (
    "encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(t.installation_id,"
    " 'UTF8'))), 'hex') AS record"
)
_UTC_DAY = "(t.updated_at AT TIME ZONE 'UTC')::date AS date"

QUERIES: dict[str, TextClause] = {
    # A person's row changes with their profile and with their devices (its `platforms`):
    # either in the window exports them, at the later of the two changes.
    USERS.name: text(
        "WITH changed AS ("  # noqa: S608
        f"  SELECT t.uid FROM users t WHERE {_IN_WINDOW}"
        f"  UNION SELECT t.user_id FROM devices t WHERE {_IN_WINDOW})"
        " SELECT k.pseudonym,"
        " greatest(coalesce(u.export_xid, 0), coalesce(dv.xid, 0)) AS change,"
        " date_trunc('week', u.created_at AT TIME ZONE 'UTC')::date AS signup_week,"
        " coalesce(dv.platforms, '{}') AS platforms,"
        " u.locale,"
        " upper(substring(u.locale FROM '[-_]([A-Za-z]{2})(?:[-_]|$)')) AS country,"
        " trunc(extract(epoch FROM (u.updated_at AT TIME ZONE u.timezone)"
        "   - (u.updated_at AT TIME ZONE 'UTC')) / 3600)::int AS utc_offset_hours,"
        " u.consent_ai_features AS consent_ai, u.daily_goal_minutes AS goal_minutes,"
        " (greatest(u.updated_at, coalesce(dv.at, u.updated_at)) AT TIME ZONE 'UTC')::date"
        "   AS date"
        " FROM changed c JOIN users u ON u.uid = c.uid"
        " JOIN analytics_keys k ON k.user_id = u.uid"
        " LEFT JOIN LATERAL (SELECT max(d.export_xid) FILTER (WHERE d.export_xid < :upper)"
        "   AS xid, max(d.updated_at) AS at, array_agg(DISTINCT d.platform ORDER BY d.platform)"
        "   FILTER (WHERE d.deleted_at IS NULL) AS platforms"
        "   FROM devices d WHERE d.user_id = u.uid) dv ON true"
        " WHERE u.consent_analytics"
        " AND NOT EXISTS (SELECT 1 FROM erased_users e WHERE e.uid = u.uid)"
        " ORDER BY date, u.uid"
    ),
    DEVICES.name: text(
        f"SELECT k.pseudonym, {_RECORD_OF_INSTALLATION}, {_CHANGE},"  # noqa: S608
        " t.deleted_at IS NOT NULL AS deleted, t.platform, t.app_version, t.os_version,"
        f" {_UTC_DAY}"
        f" FROM devices t{_OF_CONSENTING}"
        " ORDER BY date, t.user_id, t.installation_id"
    ),
    FOCUS_SESSIONS.name: text(
        f"SELECT k.pseudonym, {_RECORD_OF_ID}, {_CHANGE},"  # noqa: S608
        " t.deleted_at IS NOT NULL AS deleted, t.local_date AS date,"
        " extract(hour FROM t.started_at AT TIME ZONE t.timezone)::int AS local_start_hour,"
        " (t.planned_duration_seconds / 60)::int AS planned_minutes,"
        " floor(extract(epoch FROM t.ended_at - t.started_at) / 60)::int AS actual_minutes,"
        " t.mode, t.outcome"
        f" FROM focus_sessions t{_OF_CONSENTING}"
        " ORDER BY t.local_date, t.user_id, t.id"
    ),
    SCHEDULES.name: text(
        f"SELECT k.pseudonym, {_RECORD_OF_ID}, {_CHANGE},"  # noqa: S608
        " t.deleted_at IS NOT NULL AS deleted, t.days,"
        " (extract(epoch FROM t.end_local - t.start_local) / 60)::int"
        "   + CASE WHEN t.end_local > t.start_local THEN 0 ELSE 1440 END AS window_minutes,"
        " t.strictness, t.enabled, (t.created_at AT TIME ZONE 'UTC')::date AS created_on,"
        f" {_UTC_DAY}"
        f" FROM schedules t{_OF_CONSENTING}"
        " ORDER BY date, t.user_id, t.id"
    ),
    DAILY_USAGE.name: text(
        f"SELECT k.pseudonym, {_RECORD_OF_INSTALLATION}, {_CHANGE},"  # noqa: S608
        " t.date, t.total_minutes, t.pickups"
        f" FROM usage_reports t{_OF_CONSENTING}"
        " ORDER BY t.date, t.user_id, t.installation_id"
    ),
    EVENTS.name: text(
        f"SELECT k.pseudonym, {_CHANGE}, t.type,"  # noqa: S608
        " date_trunc('hour', t.occurred_at) AS hour,"
        " (t.occurred_at AT TIME ZONE 'UTC')::date AS date"
        f" FROM outbox_events t{_OF_CONSENTING}"
        " ORDER BY date, t.export_xid NULLS FIRST, t.id"
    ),
}


def pseudonym_of(secret: bytes, uid: str) -> str:
    return hmac.new(secret, uid.encode(), hashlib.sha256).hexdigest()


def pads_of(secret: bytes) -> tuple[bytes, bytes]:
    """HMAC's inner and outer keys of a secret (RFC 2104; the secret is under 64 bytes)."""
    padded = secret.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded)


def _psycopg(query: TextClause) -> str:
    """A query in psycopg's own placeholders, for its server-side cursor."""
    return re.sub(r"(?<!:):(lower|upper)\b", r"%(\1)s", query.text.replace("%", "%%"))


_CURSOR_SQL = {name: _psycopg(query) for name, query in QUERIES.items()}


class _Snapshot:
    def __init__(self, conn: AsyncConnection, upper: int) -> None:
        self._conn = conn
        self.upper = upper

    async def batches(self, dataset: Dataset, window: Window, size: int) -> AsyncGenerator[Columns]:
        # psycopg's own server-side cursor in the snapshot's transaction: SQLAlchemy's
        # streaming layer would cost as much CPU again as the fetch itself.
        raw = await self._conn.get_raw_connection()
        driver: Any = raw.driver_connection
        params = {"lower": window.lower, "upper": window.upper}
        async with driver.cursor(name=f"growth_{dataset.name}") as cursor:
            cursor.itersize = size
            await cursor.execute(_CURSOR_SQL[dataset.name], params)
            names = [column.name for column in cursor.description]
            while rows := await cursor.fetchmany(size):
                columns = list(zip(*rows, strict=True))
                yield dict(zip(names, columns, strict=True))


class PostgresGrowthStore:
    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock: Clock = clock or (lambda: datetime.now(UTC))

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[_Snapshot]:
        await self._settle()
        for _ in range(SNAPSHOT_ATTEMPTS):
            await self._ensure_keys()
            async with self._engine.connect() as conn:
                read_only = await conn.execution_options(isolation_level="REPEATABLE READ")
                async with read_only.begin():
                    upper = int((await read_only.execute(_UPPER)).scalar_one())
                    # A first run sorts every row before the first one comes: no timeout.
                    await read_only.execute(text("SET LOCAL statement_timeout = 0"))
                    missing = (await read_only.execute(_WITHOUT_KEY, {"limit": 1})).first()
                    if missing is None:
                        yield _Snapshot(read_only, upper)
                        return
        raise RuntimeError("people kept consenting while the snapshot was taken; run again")

    async def _settle(self) -> None:
        """Waits (a little) for the transactions running now to end, so that a run takes
        every write acknowledged before it began; one still open after SETTLE_SECONDS leaves
        its rows to the next run (nothing is lost: the window's upper bound stays below it)."""
        async with self._engine.connect() as conn:
            began = int((await conn.execute(_XMAX)).scalar_one())
            deadline = time.monotonic() + SETTLE_SECONDS
            while int((await conn.execute(_UPPER)).scalar_one()) < began:
                await conn.rollback()
                if time.monotonic() > deadline:
                    log.info("growth.snapshot_unsettled", extra={"waited_s": SETTLE_SECONDS})
                    return
                await anyio.sleep(SETTLE_POLL_SECONDS)

    async def _ensure_keys(self) -> int:
        made = 0
        while True:
            async with self._engine.begin() as conn:
                uids = (await conn.execute(_WITHOUT_KEY, {"limit": KEY_BATCH})).scalars().all()
                if not uids:
                    return made
                now = self._clock()
                rows = []
                for uid in uids:
                    secret = os.urandom(32)
                    inner, outer = pads_of(secret)
                    rows.append(
                        {
                            "user_id": uid,
                            "secret": secret,
                            "pseudonym": pseudonym_of(secret, uid),
                            "inner_pad": inner,
                            "outer_pad": outer,
                            "created_at": now,
                        }
                    )
                await conn.execute(pg_insert(_KEYS).values(rows).on_conflict_do_nothing())
                made += len(rows)

    async def watermark(self, dataset: str) -> int:
        query = select(_RUNS.c.upper_xid).where(
            _RUNS.c.dataset == dataset, _RUNS.c.state == "published"
        ).order_by(_RUNS.c.upper_xid.desc()).limit(1)  # fmt: skip
        async with self._engine.connect() as conn:
            found = (await conn.execute(query)).scalar_one_or_none()
        return int(found or 0)

    async def writing(self, dataset: str) -> Run | None:
        query = select(_RUNS).where(_RUNS.c.dataset == dataset, _RUNS.c.state == "writing")
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _run(row)

    async def start(self, run: Run) -> None:
        values = {
            "id": run.id, "dataset": run.dataset, "contract_version": run.contract_version,
            "lower_xid": run.window.lower, "upper_xid": run.window.upper, "state": "writing",
            "started_at": run.started_at,
        }  # fmt: skip
        async with self._engine.begin() as conn:
            await conn.execute(insert(_RUNS).values(values))

    async def published(
        self, run_id: UUID, at: datetime, rows: int, files: int, manifest: str
    ) -> None:
        values = {"state": "published", "published_at": at, "rows": rows, "files": files,
                  "manifest": manifest}  # fmt: skip
        async with self._engine.begin() as conn:
            await conn.execute(update(_RUNS).where(_RUNS.c.id == run_id).values(values))

    async def runs(self, dataset: str, limit: int) -> Sequence[Run]:
        query = (
            select(_RUNS)
            .where(_RUNS.c.dataset == dataset)
            .order_by(_RUNS.c.started_at.desc(), _RUNS.c.id.desc())
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_run(row) for row in rows]

    async def forgotten(self) -> Sequence[str]:
        query = select(_FORGET.c.pseudonym).order_by(_FORGET.c.pseudonym)
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).scalars().all())

    async def forget_done(self, pseudonyms: Sequence[str]) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(_FORGET.delete().where(_FORGET.c.pseudonym.in_(list(pseudonyms))))


def _run(row: Any) -> Run:
    return Run(
        id=row["id"],
        dataset=row["dataset"],
        contract_version=row["contract_version"],
        window=Window(row["lower_xid"], row["upper_xid"]),
        state=row["state"],
        started_at=row["started_at"],
        published_at=row["published_at"],
        rows=row["rows"],
        files=row["files"],
        manifest=row["manifest"],
    )
