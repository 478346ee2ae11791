"""Settings of the abuse protections: what start-up refuses (docs/adr/0013)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import ConfigurationError, Environment, Settings, check

PRODUCTION = {
    "env": Environment.PRODUCTION,
    "database_url": "postgresql://db/x",
    "firebase_project_id": "focus-prod",
    "internal_audience": "https://api.focus.example",
    "internal_invoker": "invoker@focus-prod.iam.gserviceaccount.com",
    "push": "log",
    "tasks": "postgres",
    "files_bucket": "focus-prod-focus-files",
    "privacy_subject_key": "k" * 48,
}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the environment: start from none of ours."""
    import os

    for name in list(os.environ):
        if name.startswith(("FOCUS_", "FIREBASE_")) or name in (
            "DATABASE_URL",
            "GOOGLE_CLOUD_PROJECT",
        ):
            monkeypatch.delenv(name)


def test_a_limit_that_is_not_a_rate_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValidationError, match="rate_limit_reads"):
        Settings(_env_file=None, rate_limit_reads="lots")  # type: ignore[call-arg]


def test_several_limits_may_hold_at_once() -> None:
    settings = Settings(_env_file=None, rate_limit_writes="5/second;100/minute")  # type: ignore[call-arg]

    assert settings.rate_limit_writes == "5/second;100/minute"


def test_production_refuses_limits_counted_in_one_instances_memory() -> None:
    with pytest.raises(ConfigurationError, match="FOCUS_RATE_LIMIT_STORAGE"):
        check(Settings(_env_file=None, **PRODUCTION))  # type: ignore[arg-type]


def test_production_with_redis_or_without_limits_starts() -> None:
    redis = {"rate_limit_storage": "async+redis://10.0.0.3:6379/0"}
    check(Settings(_env_file=None, **PRODUCTION, **redis))  # type: ignore[arg-type]
    check(Settings(_env_file=None, **PRODUCTION, rate_limits=False))  # type: ignore[arg-type]


def test_app_check_needs_the_projects_number() -> None:
    with pytest.raises(ConfigurationError, match="FOCUS_APP_CHECK_PROJECT_NUMBER"):
        check(Settings(_env_file=None, app_check_android="monitor"))  # type: ignore[call-arg]


def test_an_unknown_app_check_mode_is_refused() -> None:
    with pytest.raises(ValidationError, match="app_check_ios"):
        Settings(_env_file=None, app_check_ios="sometimes")  # type: ignore[call-arg]
