from __future__ import annotations

import jwt
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.settings import AuthMode, ConfigurationError, Environment, Settings, check


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the environment: start from none of ours (other fixtures may set some)."""
    import os

    for name in list(os.environ):
        if name.startswith(("FOCUS_", "FIREBASE_")) or name in (
            "DATABASE_URL",
            "GOOGLE_CLOUD_PROJECT",
        ):
            monkeypatch.delenv(name)


def production(**overrides: object) -> Settings:
    """A production configuration that passes `check`, changed by `overrides`."""
    values: dict[str, object] = {
        "env": Environment.PRODUCTION,
        "database_url": "postgresql://db/x",
        "firebase_project_id": "focus-prod",
        "internal_audience": "https://api.focus.example",
        "internal_invoker": "invoker@focus-prod.iam.gserviceaccount.com",
        "apns_key_id": "ABC123DEFG",
        "apns_team_id": "TEAM123456",
        "apns_topic": "app.focus",
        "apns_key_file": "/secrets/apns.p8",
        "cloud_tasks_target_url": "https://api.focus.example",
        "rate_limit_storage": "async+redis://10.0.0.3:6379/0",
        "files_bucket": "focus-prod-focus-files",
        "privacy_subject_key": "k" * 48,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def test_a_complete_production_configuration_passes() -> None:
    settings = check(production())

    assert settings.push_transport.value == "live"
    assert settings.tasks_transport.value == "cloud_tasks"
    assert not settings.runs_task_worker_in_process


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("internal_audience", "FOCUS_INTERNAL_AUDIENCE"),
        ("internal_invoker", "FOCUS_INTERNAL_AUDIENCE and FOCUS_INTERNAL_INVOKER"),
        ("apns_key_file", "FOCUS_APNS_KEY_FILE"),
        ("apns_topic", "FOCUS_APNS_TOPIC"),
        ("cloud_tasks_target_url", "FOCUS_CLOUD_TASKS_TARGET_URL"),
        ("files_bucket", "FOCUS_FILES_BUCKET"),
        ("privacy_subject_key", "FOCUS_PRIVACY_SUBJECT_KEY"),
    ],
)
def test_production_says_which_setting_is_missing(missing: str, named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        check(production(**{missing: None}))


def test_production_keeps_files_in_gcs_and_a_process_without_requests_needs_no_key() -> None:
    with pytest.raises(ConfigurationError, match="FOCUS_FILES=gcs"):
        check(production(files="local"))
    relay = check(production(privacy_requests=False, privacy_subject_key=None))
    assert relay.files_transport.value == "gcs"
    assert check(Settings()).files_transport.value == "local"


def test_half_of_the_internal_token_check_is_refused_anywhere() -> None:
    with pytest.raises(ConfigurationError, match="set both"):
        check(Settings(internal_audience="https://api.focus.example"))


def test_production_refuses_the_dev_token_issuer() -> None:
    settings = Settings(
        env=Environment.PRODUCTION, auth=AuthMode.DEV, database_url="postgresql://db/x"
    )

    with pytest.raises(ConfigurationError, match="dev token issuer"):
        check(settings)


def test_production_defaults_to_firebase_and_needs_a_project() -> None:
    settings = production(firebase_project_id=None)

    assert settings.auth_mode is AuthMode.FIREBASE
    with pytest.raises(ConfigurationError, match="FOCUS_FIREBASE_PROJECT_ID"):
        check(settings)


def test_production_refuses_the_auth_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    settings = production()

    with pytest.raises(ConfigurationError, match="FIREBASE_AUTH_EMULATOR_HOST"):
        check(settings)


def test_dev_is_the_default_and_uses_the_dev_issuer() -> None:
    settings = check(Settings())

    assert settings.env is Environment.DEV
    assert settings.auth_mode is AuthMode.DEV


def test_the_dev_token_command_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOCUS_ENV", "production")

    result = CliRunner().invoke(cli, ["dev", "token", "--uid", "alice"])

    assert result.exit_code == 2
    assert "refused" in result.output


def test_the_dev_token_command_prints_a_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("FOCUS_DATA_DIR", str(tmp_path))

    result = CliRunner().invoke(cli, ["dev", "token", "--uid", "alice"])

    assert result.exit_code == 0, result.output
    assert result.output.count(".") == 2  # header.payload.signature


def test_the_dev_token_command_can_date_the_sign_in_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("FOCUS_DATA_DIR", str(tmp_path))

    result = CliRunner().invoke(
        cli, ["dev", "token", "--uid", "alice", "--signed-in-minutes-ago", "30"]
    )

    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.output.strip(), options={"verify_signature": False})
    assert 29 * 60 <= claims["iat"] - claims["auth_time"] <= 31 * 60
