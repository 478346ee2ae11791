"""Shared by integration tests: an async engine of the test's own on the shared test database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.engine import create_engine


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=4)  # this test's own loop, its own pool
    yield engine
    await engine.dispose()
