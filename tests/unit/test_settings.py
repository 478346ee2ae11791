from __future__ import annotations

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


def test_production_refuses_the_dev_token_issuer() -> None:
    settings = Settings(
        env=Environment.PRODUCTION, auth=AuthMode.DEV, database_url="postgresql://db/x"
    )

    with pytest.raises(ConfigurationError, match="dev token issuer"):
        check(settings)


def test_production_defaults_to_firebase_and_needs_a_project() -> None:
    settings = Settings(env=Environment.PRODUCTION, database_url="postgresql://db/x")

    assert settings.auth_mode is AuthMode.FIREBASE
    with pytest.raises(ConfigurationError, match="FOCUS_FIREBASE_PROJECT_ID"):
        check(settings)


def test_production_refuses_the_auth_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    settings = Settings(
        env=Environment.PRODUCTION, database_url="postgresql://db/x", firebase_project_id="p"
    )

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
