"""`focus dev`: local development helpers, refused in production."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from app.cli.common import fail, settings
from app.settings import Environment

dev = typer.Typer(help="Local development helpers (refused in production).", no_args_is_help=True)


@dev.command("token")
def dev_token(
    uid: Annotated[str, typer.Option(help="The user id the token is for.")],
    ttl_days: Annotated[int, typer.Option(min=1, max=365)] = 30,
    anonymous: Annotated[bool, typer.Option(help="Issue it as for an anonymous user.")] = False,
    signed_in_minutes_ago: Annotated[
        int, typer.Option(min=0, help="Its sign-in time (auth_time) this long ago.")
    ] = 0,
) -> None:
    """Print a bearer token the dev server accepts (dev issuer; refused in production)."""
    from identity.dev_issuer import DevTokenIssuer, load_or_create_secret

    configured = settings()
    if configured.env is Environment.PRODUCTION:
        raise fail("dev tokens are refused when FOCUS_ENV=production")
    issuer = DevTokenIssuer(load_or_create_secret(configured.dev_secret_path))
    signed_in_at = datetime.now(UTC) - timedelta(minutes=signed_in_minutes_ago)
    token = issuer.issue(
        uid, ttl=timedelta(days=ttl_days), anonymous=anonymous, signed_in_at=signed_in_at
    )
    typer.echo(token)
