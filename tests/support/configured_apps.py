"""Apps of a test's own, built as production builds them from `Settings` changed by keyword,
each on its own container, all stopped (lifespan, connections) when the test ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from starlette.testclient import TestClient

from app.bootstrap import build, build_app
from app.settings import Settings

AppFactory = Callable[..., TestClient]


@contextmanager
def configured_apps(settings: Settings, database_url: str, **base: Any) -> Iterator[AppFactory]:
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        values = settings.model_dump() | base | overrides
        configured = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        client = TestClient(build_app(build(configured, database_url)))
        clients.append(client.__enter__())
        return client

    try:
        yield make
    finally:
        for client in clients:
            client.__exit__(None, None, None)
