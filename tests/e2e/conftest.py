"""The server as the apps see it: `focus serve` in a subprocess, Firebase Auth emulator tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.support.firebase_emulator import AuthEmulator
from tests.support.server import focus_serve

APP_HEADERS = {"X-Platform": "android", "X-App-Version": "4.2.0"}


@pytest.fixture(scope="session")
def server_url(
    database_url: str, auth_emulator: AuthEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    env = {
        "DATABASE_URL": database_url,
        "FOCUS_ENV": "test",
        "FOCUS_AUTH": "firebase",
        "FOCUS_FIREBASE_PROJECT_ID": auth_emulator.project_id,
        "FIREBASE_AUTH_EMULATOR_HOST": auth_emulator.host,
        "FOCUS_MIN_APP_VERSION_ANDROID": "3.0.0",
        # The session database is shared with tests that drive relays themselves.
        "FOCUS_RELAY_IN_PROCESS": "false",
        "FOCUS_TASK_WORKER_IN_PROCESS": "false",
    }
    with focus_serve(env, Path(tmp_path_factory.mktemp("serve"))) as url:
        yield url


@pytest.fixture
def http(server_url: str) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=server_url, headers=APP_HEADERS, timeout=10) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
