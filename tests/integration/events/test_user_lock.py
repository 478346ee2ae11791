"""A user's writer never waits on a transaction that merely references the user.

Every insert into a table with a foreign key to `users` holds FOR KEY SHARE on the user's row
until it commits (PostgreSQL's check of the key). A consumer holds its `processed_events`
insert open while its handler runs, so a handler that writes for the same user (forgetting a
push token, correcting its APNs environment) waited on its own consumer until the statement
timeout, and the event was retried forever. Writers must lock the user in a mode that does not
conflict with FOR KEY SHARE; these tests check it for every table that references users,
present and future, and for a consumer whose handler writes.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from datastore.postgres.consumer_log import PostgresFailedMessages, PostgresProcessedEvents
from datastore.postgres.tables import metadata
from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.common import utc_now
from domain.events import DomainEvent, EventType
from events.consumer import EventConsumer

pytestmark = pytest.mark.anyio

REFERENCING = sorted(
    table.name
    for table in metadata.sorted_tables
    if any(fk.column.table.name == "users" for fk in table.foreign_keys)
)


@pytest.fixture
async def user(engine: AsyncEngine) -> str:
    uid = f"u-{uuid.uuid4().hex[:20]}"
    async with PostgresUnitOfWork(engine) as uow:
        await uow.next_version(uid)
        await uow.commit()
    return uid


@pytest.fixture
async def holder(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction left open, as a consumer leaves its `processed_events` insert."""
    async with engine.connect() as conn:
        await conn.begin()
        yield conn
        await conn.rollback()


def test_the_tables_that_reference_users_are_found() -> None:
    assert {"devices", "processed_events", "push_budgets", "outbox_events"} <= set(REFERENCING)


@pytest.mark.parametrize("table_name", REFERENCING)
async def test_a_users_write_does_not_wait_on_an_open_insert_that_references_the_user(
    engine: AsyncEngine, user: str, holder: AsyncConnection, table_name: str
) -> None:
    await insert_referencing_row(holder, metadata.tables[table_name], user)

    async with PostgresUnitOfWork(engine) as uow:
        await uow.connection.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
        await uow.lock_user(user)
        version = await uow.next_version(user)
        await uow.commit()

    assert version == 2


async def test_a_consumers_handler_may_write_for_the_events_own_user(
    engine: AsyncEngine, user: str
) -> None:
    versions: list[int] = []

    async def handler(event: DomainEvent) -> None:
        async with PostgresUnitOfWork(engine) as uow:
            await uow.connection.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
            await uow.lock_user(event.user_id)
            versions.append(await uow.next_version(event.user_id))
            await uow.commit()

    consumer = EventConsumer(
        {"notifications": handler},
        PostgresProcessedEvents(engine),
        PostgresFailedMessages(engine),
        clock=utc_now,
    )
    event = DomainEvent(EventType.SYNC_REQUESTED, user, user, 1, utc_now())

    assert await consumer.consume("notifications", event) is True
    assert versions == [2]


async def insert_referencing_row(conn: AsyncConnection, table: sa.Table, uid: str) -> None:
    """Inserts a row of `table` for `uid`: the foreign key to users is checked for real.

    Whatever else the table checks (CHECK constraints, other foreign keys) is dropped inside
    the open transaction, which is rolled back: only the user's key matters here, and a
    table added later needs nothing written for it.
    """
    others = [
        c.name
        for c in table.constraints
        if isinstance(c, sa.CheckConstraint)
        or (isinstance(c, sa.ForeignKeyConstraint) and c.referred_table.name != "users")
    ]
    for name in others:
        await conn.execute(sa.text(f'ALTER TABLE "{table.name}" DROP CONSTRAINT "{name}"'))
    values = {
        column.name: uid if _references_users(column) else _value(column)
        for column in table.columns
        if _references_users(column) or not (column.nullable or column.server_default)
    }
    await conn.execute(table.insert().values(**values))


def _references_users(column: sa.Column[Any]) -> bool:
    return any(fk.column.table.name == "users" for fk in column.foreign_keys)


def _value(column: sa.Column[Any]) -> Any:
    kind = column.type
    match kind:
        case sa.ARRAY():
            return []
        case postgresql.JSONB() | sa.JSON():
            return {}
        case sa.Uuid():
            return uuid.uuid4()
        case sa.CHAR():
            return uuid.uuid4().hex[: kind.length or 1]
        case sa.String():
            return f"x-{uuid.uuid4().hex[:12]}"
        case sa.Integer():
            return 1
        case sa.DateTime():
            return datetime.now(UTC)
        case sa.Date():
            return date.today()
        case sa.Time():
            return time(0)
        case sa.Boolean():
            return False
        case sa.LargeBinary():
            return b""
    pytest.fail(f"{column.table.name}.{column.name}: no test value for {kind!r}; add one")
