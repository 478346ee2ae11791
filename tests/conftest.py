"""Fixtures shared by every suite: a real database, the app on it, users with tokens."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from app.bootstrap import Container, build, build_app
from app.settings import AuthMode, Environment, Settings
from identity.dev_issuer import DevTokenIssuer, load_or_create_secret
from tests.support.clock import TestClock

pytest_plugins = [
    "tests.support.processes",  # fails the run when a test leaves a process running
    "tests.support.postgres",
    "tests.support.firebase_emulator",
    "tests.support.pubsub_emulator",
    "tests.support.firestore_emulator",
    "tests.support.cloud_tasks_emulator",
    "tests.support.fake_fcm",
    "tests.support.fake_apns",
    "tests.support.fake_vertex",
    "tests.support.tracing",
]


@pytest.fixture
def anyio_backend() -> str:
    """`@pytest.mark.anyio` tests run on asyncio, as the app does (defined once, here)."""
    return "asyncio"


@pytest.fixture(scope="session")
def clock() -> TestClock:
    return TestClock()


@pytest.fixture(autouse=True)
def _real_time_by_default(clock: TestClock) -> Iterator[None]:
    yield
    clock.reset()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        env=Environment.TEST,
        auth=AuthMode.DEV,
        data_dir=tmp_path_factory.mktemp("focus-data"),
        min_app_version_ios="3.0.0",
        min_app_version_android="3.0.0",
        # Relays run where a test drives them (tests/integration/test_outbox_relay.py).
        relay_in_process=False,
        task_worker_in_process=False,
        # Every test calls from the TestClient's one address; per-user limits stay the defaults.
        rate_limit_per_ip="1000000/minute",
    )


@pytest.fixture(scope="session")
def container(settings: Settings, database_url: str, clock: TestClock) -> Container:
    return build(settings, database_url, clock=clock)


@pytest.fixture(scope="session")
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(build_app(container), raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass
class ApiUser:
    """A signed-in app user: pass `headers` with every request."""

    uid: str
    token: str
    headers: dict[str, str] = field(default_factory=dict)

    def with_headers(self, **extra: str) -> dict[str, str]:
        return {**self.headers, **{k.replace("_", "-"): v for k, v in extra.items()}}


@pytest.fixture(scope="session")
def dev_issuer(settings: Settings) -> DevTokenIssuer:
    return DevTokenIssuer(load_or_create_secret(Path(settings.dev_secret_path)))


@pytest.fixture
def make_user(dev_issuer: DevTokenIssuer) -> Callable[[], ApiUser]:
    """A new user with a valid token each call: tests never share data by accident."""

    def make() -> ApiUser:
        uid = f"u-{uuid.uuid4().hex[:20]}"
        token = dev_issuer.issue(uid)
        headers = {
            "Authorization": f"Bearer {token}",
            "X-Platform": "ios",
            "X-App-Version": "4.2.0",
        }
        return ApiUser(uid, token, headers)

    return make


@pytest.fixture
def alice(make_user: Callable[[], ApiUser]) -> ApiUser:
    return make_user()


@pytest.fixture
def bob(make_user: Callable[[], ApiUser]) -> ApiUser:
    return make_user()
