"""`focus legacy`: the Firebase app's Firestore data, for tests, benchmarks and rehearsals."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from migration.cli.host import Host

EMULATOR_PROJECT_ID = "demo-focus"

legacy = typer.Typer(
    help="The legacy Firestore data the Firebase app writes (refused in production).",
    no_args_is_help=True,
)


@legacy.command("seed")
def seed_command(
    ctx: typer.Context,
    users: Annotated[int, typer.Option(min=0, help="How many users to write.")],
    seed: Annotated[int, typer.Option(help="The same seed writes the same documents.")] = 1,
    drift: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of documents drifted, per kind.")
    ] = 0.1,
    not_the_emulator: Annotated[
        bool,
        typer.Option(
            "--i-know-this-is-not-the-emulator",
            help="Write to a real Firestore project (never production).",
        ),
    ] = False,
) -> None:
    """Write legacy users, drift and orphans included (docs/migration/legacy-firestore.md).

    Target: FIRESTORE_EMULATOR_HOST; project: GOOGLE_CLOUD_PROJECT, else demo-focus.
    """
    from google.cloud import firestore

    from migration.legacy.seed import seed as write_dataset

    host = Host.of(ctx)
    if host.is_production():
        raise host.fail("seeding legacy data is refused when FOCUS_ENV=production")
    emulator = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if not emulator and not not_the_emulator:
        raise host.fail(
            "FIRESTORE_EMULATOR_HOST is not set: start the emulator (`gcloud emulators "
            "firestore start`) and export it, or pass --i-know-this-is-not-the-emulator"
        )
    project = host.firebase_project_id() or (EMULATOR_PROJECT_ID if emulator else None)
    if project is None:
        raise host.fail("set GOOGLE_CLOUD_PROJECT (or FOCUS_FIREBASE_PROJECT_ID) to the project")
    target = f"emulator {emulator}" if emulator else "Firestore"
    typer.echo(f"seeding {target}, project {project}: {users} users, seed {seed}, drift {drift}")
    report = write_dataset(firestore.Client(project=project), users, seed=seed, drift=drift)
    typer.echo("\n".join(report.lines()))
