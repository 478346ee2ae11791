"""The migration's `focus` command groups: `legacy` (the Firebase app's Firestore data) and
`migrate` (phases, status, backfill, verify). Deleted with `migration/`.

The composition root (`app/cli/__init__.py`) calls `register` when this package is there,
lending the commands what they need of the app through a `Host`.
"""

from __future__ import annotations

import typer

from migration.cli.host import Host
from migration.cli.legacy import legacy
from migration.cli.migrate import migrate


def register(cli: typer.Typer, host: Host) -> None:
    """Add `legacy` and `migrate` to `cli`; their commands find `host` in their context."""
    cli.add_typer(legacy, name="legacy", context_settings={"obj": host})
    cli.add_typer(migrate, name="migrate", context_settings={"obj": host})


__all__ = ["Host", "register"]
