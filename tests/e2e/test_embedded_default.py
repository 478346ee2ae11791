"""The README's first command: `focus serve` with no configuration at all."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.support.server import FOCUS, focus_serve


def test_serve_with_no_configuration_runs_on_an_embedded_postgres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    env = {"FOCUS_ENV": "dev"}

    with focus_serve(env, tmp_path) as url:
        token = dev_token(tmp_path, env, "laptop-user")
        response = httpx2.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json()["uid"] == "laptop-user"
    assert (tmp_path / ".focus" / "postgres" / "PG_VERSION").exists()


def test_the_embedded_default_writes_silent_pushes_to_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outbox, relay, consumer and push policy all run inside `focus serve`."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    env = {"FOCUS_ENV": "dev", "FOCUS_LOG_FORMAT": "json"}
    tablet_token = "ab" * 32

    with focus_serve(env, tmp_path) as url:
        token = dev_token(tmp_path, env, "laptop-user")
        app = {"Authorization": f"Bearer {token}", "X-Platform": "ios", "X-App-Version": "4.2.0"}
        with httpx2.Client(base_url=url, headers=app) as http:
            for installation_id, push_token in (
                ("phone-0001", "cd" * 32),
                ("tablet-0001", tablet_token),
            ):
                http.put(
                    f"/v1/devices/{installation_id}",
                    json={
                        "platform": "ios",
                        "app_version": "4.2.0",
                        "push_token": push_token,
                        "apns_environment": "sandbox",
                    },
                ).raise_for_status()
            http.post("/v1/sync/requests", headers={"X-Installation-Id": "phone-0001"})
            pushes = _wait_for_pushes(tmp_path / "serve.log")

    assert [p["token_prefix"] for p in pushes] == [tablet_token[:8]]
    assert pushes[0]["data"]["kind"] == "sync"


def dev_token(cwd: Path, env: dict[str, str], uid: str) -> str:
    """`focus dev token`, as a developer runs it beside the server."""
    return subprocess.run(
        [str(FOCUS), "dev", "token", "--uid", uid],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _wait_for_pushes(log: Path, timeout: float = 15) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        pushes = [line for line in lines if line.get("message") == "notifications.log.silent_push"]
        if pushes:
            return pushes
        time.sleep(0.2)
    return []
