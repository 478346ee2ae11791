"""The async engine: one pool per process, created by the composition root, never at import."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def sqlalchemy_url(database_url: str) -> str:
    """Accept the usual `postgresql://` URL and select the psycopg 3 driver."""
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def create_engine(database_url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    return create_async_engine(
        sqlalchemy_url(database_url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        # Statement timeout guards the pool against a runaway query holding a connection.
        connect_args={"options": "-c statement_timeout=15000 -c timezone=UTC"},
    )
