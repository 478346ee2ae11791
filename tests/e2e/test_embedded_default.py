"""The README's first command: `focus serve` with no configuration at all."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

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
        token = subprocess.run(
            [str(FOCUS), "dev", "token", "--uid", "laptop-user"],
            cwd=tmp_path,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        response = httpx2.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json()["uid"] == "laptop-user"
    assert (tmp_path / ".focus" / "postgres" / "PG_VERSION").exists()
