"""Wiring of growth exports (ADR 0020): the growth bucket (GCS in production, a folder in the
data dir elsewhere), the Postgres source and the exporter that `focus exports` runs (daily in
production: a Cloud Run job, since a run outlasts any request). Part of the composition root
(`app/bootstrap.py`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import FilesTransport, Settings
from datastore.postgres.growth import PostgresGrowthStore
from domain.common import Clock
from domain.files import FileStore
from exports.runner import GrowthExporter


def build_growth(settings: Settings, engine: AsyncEngine, clock: Clock) -> GrowthExporter | None:
    """The exporter, where this process has the growth bucket (with GCS files, only where
    FOCUS_GROWTH_BUCKET is set: the daily job's process)."""
    files = growth_files(settings, clock)
    if files is None:
        return None
    return GrowthExporter(PostgresGrowthStore(engine, clock), files, clock)


def growth_files(settings: Settings, clock: Clock) -> FileStore | None:
    """The growth team's bucket: never the bucket of data-subject exports."""
    match settings.files_transport:
        case FilesTransport.GCS:
            from datastore.files.gcs import GcsConfig, GcsFileStore

            if settings.growth_bucket is None:
                return None
            config = GcsConfig(
                bucket=settings.growth_bucket,
                project_id=settings.firebase_project_id,
                emulator_host=settings.storage_emulator_host,
            )
            return GcsFileStore.from_config(config)
        case FilesTransport.LOCAL:
            from datastore.files.local import LocalFileStore
            from identity.dev_issuer import load_or_create_secret

            secret = load_or_create_secret(settings.data_dir / "files-url-secret")
            return LocalFileStore(
                settings.data_dir / "growth", secret=secret, url_path="/growth", clock=clock
            )
