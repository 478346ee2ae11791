"""Growth exports on a database of their own (their watermarks are global), the API on it to
write the rows as the apps do, and the exporter the composition root wires (local files)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.bootstrap import Container, build, build_app
from app.settings import AuthMode, Environment, Settings
from datastore.postgres.schema import upgrade
from exports.runner import GrowthExporter
from identity.dev_issuer import DevTokenIssuer, load_or_create_secret
from tests.conftest import ApiUser
from tests.support.clock import TestClock

SECRET_NAME = "Zelda Quintanilla-Growthcheck"
PUSH_TOKEN = "a1b2c3d4" * 8
BLOCKLIST_NAME = "Quietude-Blocklist-7731"
SCHEDULE_NAME = "Evening-Schedule-4412"


@dataclass
class Growth:
    client: TestClient
    container: Container
    issuer: DevTokenIssuer
    data_dir: Path

    @property
    def exporter(self) -> GrowthExporter:
        assert self.container.growth is not None
        return self.container.growth

    def run(self, **options: Any) -> list[Any]:
        return self.call(self.exporter.run, **options)

    def call(self, job: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        async def go() -> Any:
            return await job(*args, **kwargs)

        portal = self.client.portal
        assert portal is not None
        return portal.call(go)

    def user(self) -> ApiUser:
        uid = f"u-{uuid.uuid4().hex[:20]}"
        headers = {
            "Authorization": f"Bearer {self.issuer.issue(uid)}",
            "X-Platform": "ios",
            "X-App-Version": "4.2.0",
        }
        return ApiUser(uid, self.issuer.issue(uid), headers)

    @property
    def files(self) -> Path:
        return self.data_dir / "growth"


@pytest.fixture
def growth(scratch_database: str, tmp_path: Path, clock: TestClock) -> Iterator[Growth]:
    upgrade(scratch_database)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        env=Environment.TEST,
        auth=AuthMode.DEV,
        data_dir=tmp_path / "data",
        min_app_version_ios="3.0.0",
        min_app_version_android="3.0.0",
        relay_in_process=False,
        task_worker_in_process=False,
        rate_limit_per_ip="1000000/minute",
    )
    container = build(settings, scratch_database, clock=clock)
    issuer = DevTokenIssuer(load_or_create_secret(settings.dev_secret_path))
    with TestClient(build_app(container), raise_server_exceptions=True) as client:
        yield Growth(client, container, issuer, settings.data_dir)
