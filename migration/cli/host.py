"""What the `focus` command lends the migration's commands: the migration does not import `app`.

The composition root (`app/cli/__init__.py`) builds one `Host` from its settings and its usage
error, and registers the groups with it; a command finds it in its click context. Each callable
reads the environment when the command runs, not when the CLI is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import typer


@dataclass(frozen=True)
class Host:
    """The settings and helpers of the `focus` command that the migration's commands use."""

    fail: Callable[[str], typer.Exit]
    """The CLI's one usage error: said on stderr, exit code 2 (raise what it returns)."""
    configure_logging: Callable[[], None]
    """Logging as the settings say."""
    database_url: Callable[[], str]
    """The configured Postgres, else the embedded one; a configuration error is a usage error."""
    firebase_project_id: Callable[[], str | None]
    """The Firebase (Google Cloud) project, if one is configured."""
    is_production: Callable[[], bool]
    """Whether FOCUS_ENV is production."""

    @staticmethod
    def of(ctx: typer.Context) -> Host:
        """The host the groups were registered with (`migration.cli.register`)."""
        host = ctx.find_object(Host)
        if host is None:
            raise RuntimeError("the migration's commands run only as registered by register()")
        return host
