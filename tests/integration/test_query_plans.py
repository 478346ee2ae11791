"""On a million focus sessions, the hot paths' queries are index scans on their own indexes.

The SQL is what the use cases and repositories send, captured from the driver while they run
(never retyped), so a query that changes shape is explained again. Each is explained twice:
as the custom plan PostgreSQL makes for the given values (a statement's first executions), and
as the generic plan it may switch to once psycopg has prepared the statement (after 5
executions on a connection, with `plan_cache_mode = auto`).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import event
from sqlalchemy.engine import make_url

from datastore.postgres.engine import create_engine
from datastore.postgres.schema import upgrade
from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.common import PageRequest
from domain.focus_sessions import use_cases as sessions
from domain.focus_sessions.model import DayRange
from domain.stats import use_cases as stats
from domain.sync import use_cases as sync
from domain.unit_of_work import UnitOfWork

USERS, PER_USER = 2_000, 500
USER = "u-0040"  # every 10th user has a running session
FIRST, LAST = date(2025, 3, 1), date(2025, 5, 31)  # the data ends on 2025-06-01
INDEX_SCANS = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}
_ON_FOCUS_SESSIONS = re.compile(r"\bFROM focus_sessions\b")

# Sessions every 33 hours back from 2025-06-01 (about 22 months), inserted in time order as
# they would arrive; one in five abandoned, one in 97 deleted, the newest of every 10th user
# running; a completed one meets the daily goal. Ids are random (v4), as clients that start
# sessions offline send them.
_SEED = [
    """
INSERT INTO users (uid, timezone, daily_goal_minutes, change_seq, version, created_at, updated_at)
SELECT format('u-%%s', lpad(u::text, 4, '0')),
       (ARRAY['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'])[mod(u, 4) + 1],
       25, %(per_user)s, 0, now(), now()
FROM generate_series(0, %(users)s - 1) AS u
""",
    """
INSERT INTO focus_sessions (id, user_id, mode, planned_duration_seconds, started_at, ended_at,
  outcome, timezone, local_date, version, created_at, updated_at, deleted_at)
SELECT gen_random_uuid(), uid, CASE WHEN mod(n, 7) = 0 THEN 'hard' ELSE 'normal' END, 1500,
       started_at,
       CASE WHEN running THEN NULL WHEN mod(n, 5) = 0 THEN started_at + interval '10 minutes'
            ELSE started_at + interval '25 minutes' END,
       CASE WHEN running THEN NULL WHEN mod(n, 5) = 0 THEN 'abandoned' ELSE 'completed' END,
       tz, (started_at AT TIME ZONE tz)::date, %(per_user)s + 1 - n, started_at, started_at,
       CASE WHEN mod(n, 97) = 0 THEN started_at + interval '1 hour' END
FROM (
  SELECT format('u-%%s', lpad(u::text, 4, '0')) AS uid, n,
         (ARRAY['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'])[mod(u, 4) + 1] AS tz,
         timestamptz '2025-06-01 08:00Z' - ((n - 1) * 33 + mod(u, 24)) * interval '1 hour'
           AS started_at,
         n = 1 AND mod(u, 10) = 0 AS running
  FROM generate_series(0, %(users)s - 1) AS u, generate_series(1, %(per_user)s) AS n
) AS s
ORDER BY started_at
""",
]

_SCHEMA = """
SELECT 'index', indexname, indexdef FROM pg_indexes WHERE tablename = 'focus_sessions'
UNION ALL
SELECT 'constraint', conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'focus_sessions'::regclass AND contype IN ('p', 'f')
ORDER BY 1, 2
"""


def _seed(url: str) -> None:
    """Bulk load with the keys and indexes dropped, then rebuilt from the catalog's own
    definitions (ten times faster than maintaining five indexes and a foreign key per row)."""
    with psycopg.connect(url, autocommit=True) as conn:
        schema = conn.execute(_SCHEMA).fetchall()
        indexes = [(name, ddl) for kind, name, ddl in schema if kind == "index"]
        keys = sorted(
            ((name, ddl) for kind, name, ddl in schema if kind == "constraint"),
            key=lambda key: not key[1].startswith("PRIMARY KEY"),
        )
        constraint_names = {name for name, _ in keys}
        for name, _ in indexes:
            if name not in constraint_names:
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        for name, _ in keys:
            drop = "ALTER TABLE focus_sessions DROP CONSTRAINT {}"
            conn.execute(sql.SQL(drop).format(sql.Identifier(name)))
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute("SET synchronous_commit = off")
        for statement in _SEED:
            conn.execute(statement, {"users": USERS, "per_user": PER_USER})
        for name, ddl in keys:
            add = sql.SQL("ALTER TABLE focus_sessions ADD CONSTRAINT {} {}")
            conn.execute(add.format(sql.Identifier(name), sql.SQL(ddl)))
        for name, ddl in indexes:
            if name not in constraint_names:
                conn.execute(sql.SQL(ddl))
        # The visibility map, as autovacuum keeps it: index-only scans depend on it.
        conn.execute("VACUUM ANALYZE focus_sessions")
        conn.execute("VACUUM ANALYZE users")
        assert conn.execute(_SCHEMA).fetchall() == schema, "the schema was not restored as it was"
        [(rows,)] = conn.execute("SELECT count(*) FROM focus_sessions")
        assert rows == USERS * PER_USER


@pytest.fixture(scope="module")
def million_sessions(database_url: str) -> Iterator[str]:
    """A migrated database of its own, beside the session's one, with 1,000,000 sessions."""
    name = f"focus_plans_{uuid.uuid4().hex[:10]}"
    admin = make_url(database_url).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        _seed(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class Statement:
    sql: str
    params: dict[str, Any]


def run_captured(url: str, action: Callable[[UnitOfWork], Awaitable[object]]) -> list[Statement]:
    """Run `action` in a unit of work; return the statements it sent on focus_sessions."""

    async def run() -> list[Statement]:
        engine = create_engine(url, pool_size=1)
        seen: list[Statement] = []

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def capture(*args: Any) -> None:
            statement, parameters = args[2], args[3]
            if _ON_FOCUS_SESSIONS.search(statement):
                seen.append(Statement(statement, dict(parameters or {})))

        try:
            async with PostgresUnitOfWork(engine) as uow:
                await action(uow)
        finally:
            await engine.dispose()
        return seen

    return asyncio.run(run())


def explain(url: str, statement: Statement, *, generic: bool) -> dict[str, Any]:
    """`EXPLAIN (ANALYZE, FORMAT JSON)` of the statement prepared with its parameters."""
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    prepared = re.sub(r"%\((\w+)\)s", placeholder, statement.sql).replace("%%", "%")
    values = sql.SQL(", ").join(sql.Literal(statement.params[name]) for name in names)
    execute = (
        sql.SQL("EXECUTE hot_path ({})").format(values) if names else sql.SQL("EXECUTE hot_path")
    )
    mode = "force_generic_plan" if generic else "force_custom_plan"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET plan_cache_mode = {}").format(sql.SQL(mode)))
        conn.execute(sql.SQL("PREPARE hot_path AS ") + sql.SQL(prepared))
        [(plans,)] = conn.execute(sql.SQL("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ") + execute)
    plan: dict[str, Any] = plans[0]
    return plan


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


# ---- the hot paths ---------------------------------------------------------------------------

Action = Callable[[UnitOfWork, uuid.UUID], Awaitable[object]]
_ALL_DAYS, _SPRING = DayRange(), DayRange(FIRST, LAST)


def _list(days: DayRange, *, pages: int) -> Action:
    async def action(uow: UnitOfWork, _: uuid.UUID) -> None:
        page = await sessions.list_focus_sessions(uow, USER, days, PageRequest(50))
        for _more in range(pages - 1):
            if page.next_after is None:
                pytest.fail("the user's sessions should fill more than a page")
            after = page.next_after
            page = await sessions.list_focus_sessions(uow, USER, days, PageRequest(50, after))

    return action


async def _get(uow: UnitOfWork, session_id: uuid.UUID) -> None:
    await sessions.get_focus_session(uow, USER, session_id)


async def _running(uow: UnitOfWork, _: uuid.UUID) -> None:
    if await uow.focus_sessions.running(USER) is None:
        pytest.fail("the user should have a running session")


async def _stats(uow: UnitOfWork, _: uuid.UUID) -> None:
    await stats.get_stats(uow, USER, FIRST, LAST, clock=lambda: datetime(2025, 6, 1, tzinfo=UTC))


async def _sync(uow: UnitOfWork, _: uuid.UUID) -> None:
    await sync.changes_since(uow, USER, PER_USER - 60, 100)  # a phone 60 changes behind


@dataclass(frozen=True)
class HotPath:
    action: Action
    index: str
    sent: int = 1
    """How many statements on focus_sessions the action sends; the last one is explained..."""
    pick: int = -1
    """...unless this says which."""


HOT_PATHS = {
    "get by user and id": HotPath(_get, "focus_sessions_pkey"),
    "running session": HotPath(_running, "uq_focus_sessions_running"),
    "list, first page": HotPath(
        _list(_ALL_DAYS, pages=1), "ix_focus_sessions_user_id_started_at_id"
    ),
    "list, cursor page": HotPath(
        _list(_ALL_DAYS, pages=2), "ix_focus_sessions_user_id_started_at_id", sent=2
    ),
    "list from/to, first page": HotPath(
        _list(_SPRING, pages=1), "ix_focus_sessions_user_id_started_at_id"
    ),
    "list from/to, cursor page": HotPath(
        _list(_SPRING, pages=2), "ix_focus_sessions_user_id_started_at_id", sent=2
    ),
    "stats, totals per day": HotPath(_stats, "ix_focus_sessions_completed_days", sent=2, pick=0),
    "stats, days meeting the goal": HotPath(
        _stats, "ix_focus_sessions_completed_days", sent=2, pick=1
    ),
    "delta sync": HotPath(_sync, "ix_focus_sessions_user_id_version"),
}

CASES = [
    pytest.param(
        name,
        generic,
        id=f"{name} ({'generic' if generic else 'custom'} plan)",
    )
    for name in HOT_PATHS
    for generic in (False, True)
]


@pytest.fixture(scope="module")
def a_session_id(million_sessions: str) -> uuid.UUID:
    with psycopg.connect(million_sessions) as conn:
        [(session_id,)] = conn.execute(
            "SELECT id FROM focus_sessions WHERE user_id = %s AND deleted_at IS NULL"
            " ORDER BY started_at DESC OFFSET 60 LIMIT 1",
            (USER,),
        )
    return uuid.UUID(str(session_id))


def _with_id(action: Action, session_id: uuid.UUID, uow: UnitOfWork) -> Awaitable[object]:
    return action(uow, session_id)


@pytest.fixture(scope="module")
def statements(million_sessions: str, a_session_id: uuid.UUID) -> dict[str, Statement]:
    """The statement each hot path sends, captured once per module."""
    found = {}
    for name, path in HOT_PATHS.items():
        sent = run_captured(million_sessions, partial(_with_id, path.action, a_session_id))
        if len(sent) != path.sent:
            pytest.fail(f"{name}: {len(sent)} statements on focus_sessions, not {path.sent}")
        found[name] = sent[path.pick]
    return found


@pytest.mark.parametrize(("name", "generic"), CASES)
def test_the_hot_path_is_an_index_scan_on_its_index(
    million_sessions: str, statements: dict[str, Statement], name: str, generic: bool
) -> None:
    plan = explain(million_sessions, statements[name], generic=generic)
    found = list(nodes(plan["Plan"]))
    shape = [(n["Node Type"], n.get("Index Name") or n.get("Relation Name")) for n in found]

    seq_scans = [n for n in found if n["Node Type"] == "Seq Scan"]
    assert not [n for n in seq_scans if n.get("Relation Name") == "focus_sessions"], shape
    used = {n.get("Index Name") for n in found if n["Node Type"] in INDEX_SCANS}
    assert HOT_PATHS[name].index in used, shape
    assert plan["Plan"]["Actual Rows"] > 0, "the query found nothing: a plan of no interest"
