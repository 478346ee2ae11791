"""Run as a script: the app and the `focus` command built and used in a process where the
Firestore migration's modules cannot be imported, as if deleted. Prints what it saw as one JSON
line.

Usage: python tests/support/without_migration.py DATABASE_URL DATA_DIR MODULE[,MODULE...]
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType


class Deleted(importlib.abc.MetaPathFinder):
    """Finds the named modules (and what is below them) nowhere."""

    def __init__(self, absent: Sequence[str]) -> None:
        self.absent = tuple(absent)

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if is_absent(name, self.absent):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def is_absent(name: str, absent: Sequence[str]) -> bool:
    return any(name == gone or name.startswith(gone + ".") for gone in absent)


def main(database_url: str, data_dir: Path, absent: Sequence[str]) -> dict[str, object]:
    sys.meta_path.insert(0, Deleted(absent))
    from starlette.testclient import TestClient
    from typer.testing import CliRunner

    from app.bootstrap import build, build_app
    from app.cli import cli
    from app.settings import AuthMode, Environment, Settings
    from identity.dev_issuer import DevTokenIssuer, load_or_create_secret

    settings = Settings(
        env=Environment.TEST,
        auth=AuthMode.DEV,
        data_dir=data_dir,
        relay_in_process=False,
        task_worker_in_process=False,
    )
    issuer = DevTokenIssuer(load_or_create_secret(Path(settings.dev_secret_path)))
    headers = {
        "Authorization": f"Bearer {issuer.issue('u-no-migration')}",
        "X-Platform": "ios",
        "X-App-Version": "4.2.0",
    }
    blocklist = {"name": "Social", "items": [{"kind": "web_domain", "value": "x.com"}]}
    seen: dict[str, object] = {}
    with TestClient(build_app(build(settings, database_url))) as client:
        seen["create"] = client.post("/v1/blocklists", headers=headers, json=blocklist).status_code
        listed = client.get("/v1/blocklists", headers=headers).json()["items"]
        seen["list"] = [item["name"] for item in listed]
        changes = client.get("/v1/sync", headers=headers).json()["changes"]
        seen["sync"] = sorted({change["type"] for change in changes})
        started = client.post(
            "/v1/focus-sessions", headers=headers, json={"planned_duration_minutes": 25}
        )
        seen["session"] = started.status_code
    seen["groups"] = sorted(str(group.name) for group in cli.registered_groups)
    current = CliRunner().invoke(cli, ["db", "current"], env={"DATABASE_URL": database_url})
    seen["db current"] = [current.exit_code, current.stdout.partition(":")[0]]
    migrate = CliRunner().invoke(cli, ["migrate", "status"])
    seen["migrate status"] = [migrate.exit_code, "No such command 'migrate'" in migrate.stderr]
    seen["loaded"] = sorted(name for name in sys.modules if is_absent(name, absent))
    return seen


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], Path(sys.argv[2]), sys.argv[3].split(","))))
