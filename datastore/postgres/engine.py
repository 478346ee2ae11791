"""The async engine: one pool per process, created by the composition root, never at import."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncCursor
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def sqlalchemy_url(database_url: str) -> str:
    """Accept the usual `postgresql://` URL and select the psycopg 3 driver."""
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def create_engine(
    database_url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    cursor_factory: type[AsyncCursor[Any]] | None = None,
) -> AsyncEngine:
    """`cursor_factory`: psycopg's cursor class for every statement (tracing's, app/tracing.py)."""
    # Statement timeout guards the pool against a runaway query holding a connection.
    connect_args: dict[str, Any] = {"options": "-c statement_timeout=15000 -c timezone=UTC"}
    if cursor_factory is not None:
        connect_args["cursor_factory"] = cursor_factory
    return create_async_engine(
        sqlalchemy_url(database_url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        connect_args=connect_args,
    )
