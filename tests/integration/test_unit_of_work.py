"""The Postgres unit of work: each `async with` one connection and one transaction, whose
repositories are made on first use and never outlive it."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.unit_of_work import UnitOfWork
from domain.users import use_cases as users

pytestmark = pytest.mark.anyio


async def test_a_unit_entered_again_works_on_its_new_connection(engine: AsyncEngine) -> None:
    uid = f"u-{uuid.uuid4().hex[:20]}"
    uow = PostgresUnitOfWork(engine)
    async with uow:
        first = uow.users
        assert uow.users is first, "one repository per entry"
        await users.ensure_user(uow, uid)
        await uow.commit()
    async with uow:
        assert uow.users is not first, "repositories of a closed connection are not reused"
        assert await uow.users.get(uid) is not None
        await uow.rollback()


async def test_what_was_not_committed_is_gone_with_the_unit(engine: AsyncEngine) -> None:
    uid = f"u-{uuid.uuid4().hex[:20]}"
    uow = PostgresUnitOfWork(engine)
    async with uow:
        await users.ensure_user(uow, uid)
    async with uow:
        assert await uow.users.get(uid) is None


async def test_a_unit_not_entered_has_no_repositories(engine: AsyncEngine) -> None:
    uow = PostgresUnitOfWork(engine)
    with pytest.raises(AttributeError):
        _ = uow.focus_sessions
    async with uow:
        pass
    with pytest.raises(AttributeError):
        _ = uow.outbox  # after leaving, too: its connection went back to the pool
    with pytest.raises(AttributeError):
        _ = uow.not_a_repository


async def test_every_repository_the_domain_names_is_there(engine: AsyncEngine) -> None:
    """A repository added to `domain.unit_of_work.UnitOfWork` but not to the Postgres unit's
    makers fails here, not on its first request."""
    names = set(UnitOfWork.__annotations__)
    assert "focus_sessions" in names
    async with PostgresUnitOfWork(engine) as uow:
        for name in names:
            assert getattr(uow, name) is getattr(uow, name), name
