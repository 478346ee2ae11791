"""Shared by integration tests: an async engine of the test's own on the shared test database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.engine import create_engine


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=4)  # this test's own loop, its own pool
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
def runner_and_engine(database_url: str) -> Iterator[tuple[asyncio.Runner, AsyncEngine]]:
    """One event loop and one engine for a module's property tests: Hypothesis runs every
    example inside one call of the test, where function-scoped async fixtures cannot reach."""
    with asyncio.Runner() as runner:
        engine = create_engine(database_url, pool_size=2)
        yield runner, engine
        runner.run(engine.dispose())
