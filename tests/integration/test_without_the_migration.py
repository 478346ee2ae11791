"""The product without the Firestore migration: when the last entity is `postgres_only`,
`migration/` (with the Firestore adapters and its `focus` command groups, `migration/cli/`) and
the Cloud Function are deleted and FOCUS_LEGACY_FIRESTORE unset. The app runs in a process where
those modules cannot be imported, as if deleted (`tests/support/without_migration.py`), and is
used as the apps use it; the `focus` command builds and works without `legacy` and `migrate`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ABSENT = ("migration", "functions")
"""What removing the migration deletes (CONTRIBUTING.md)."""
SCRIPT = Path(__file__).parents[1] / "support" / "without_migration.py"


def test_the_app_builds_and_serves_with_the_migration_deleted(
    database_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOCUS_")}
    ran = subprocess.run(
        [sys.executable, str(SCRIPT), database_url, str(tmp_path), ",".join(ABSENT)],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).parents[2],
        timeout=120,
        check=False,
    )

    assert ran.returncode == 0, ran.stderr[-4000:]
    seen = json.loads(ran.stdout.strip().splitlines()[-1])
    assert seen["create"] == 201
    assert seen["list"] == ["Social"]
    assert seen["sync"] == ["blocklist", "profile"]
    assert seen["session"] == 201
    assert seen["groups"] == [
        "db", "dev", "events", "exports", "openapi", "privacy", "staff", "tasks"
    ]  # fmt: skip
    assert seen["db current"] == [0, "current"]
    assert seen["migrate status"] == [2, True]
    assert seen["loaded"] == []
