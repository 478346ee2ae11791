"""When tokens cannot be checked, the server says so (503) and never lets a request through."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from tests.support.google import firebase_style_token, new_signing_key, write_service_account
from tests.support.processes import free_port
from tests.support.server import focus_serve


def test_unreachable_google_certificates_give_503_not_a_bypass(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    key = new_signing_key()
    url_placeholder = "https://focus-api.example.run.app"
    dead_proxy = f"http://127.0.0.1:{free_port()}"  # nobody listens: Google is unreachable
    env = {
        "DATABASE_URL": database_url,
        "FOCUS_ENV": "production",
        "FOCUS_FIREBASE_PROJECT_ID": "demo-focus",
        "FOCUS_INTERNAL_AUDIENCE": url_placeholder,
        "FOCUS_INTERNAL_INVOKER": "invoker@demo-focus.iam.gserviceaccount.com",
        # Only auth is under test: pushes to the log, delayed jobs in Postgres, not run here.
        "FOCUS_PUSH": "log",
        "FOCUS_TASKS": "postgres",
        "FOCUS_TASK_WORKER_IN_PROCESS": "false",
        "FOCUS_RATE_LIMITS": "false",  # in production limits need Redis; only auth is tested
        "FOCUS_FILES_BUCKET": "demo-focus-focus-files",  # named only: no file is written here
        "FOCUS_PRIVACY_SUBJECT_KEY": "k" * 48,
        "GOOGLE_APPLICATION_CREDENTIALS": str(write_service_account(tmp_path, key, "demo-focus")),
        "HTTPS_PROXY": dead_proxy,
        "https_proxy": dead_proxy,
        "NO_PROXY": "",
        "no_proxy": "",
    }

    with focus_serve(env, tmp_path) as url:
        token = firebase_style_token(key, "demo-focus")
        response = httpx2.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    body = response.json()
    assert body["code"] == "auth_unavailable"
    assert "proxy" not in response.text.lower()
    assert "certificate" not in response.text.lower()
