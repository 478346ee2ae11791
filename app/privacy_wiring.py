"""Wiring of data-subject requests and the file store: settings → the privacy use cases, the
runner with every store's part this deployment has, the hourly watch, restores, and the links
the app serves when files are local. Part of the composition root (`app/bootstrap.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from api.services import LocalFiles
from app.settings import AuthMode, FilesTransport, Settings
from datastore.postgres.personal_data import PostgresPersonalData
from datastore.postgres.privacy_store import PostgresPrivacyStore
from domain.common import Clock
from domain.files import FileStore
from domain.privacy.ports import PersonalData, PrivacyStore, SubjectLookup
from domain.tasks import TaskScheduler
from domain.unit_of_work import UnitOfWorkFactory
from domain.user_data import DataStore
from jobs.registry import TaskHandlers
from privacy.derived import DerivedStats
from privacy.exports import ExportArchives
from privacy.requests import RUN_TASK, PrivacyRequests, SubjectHasher
from privacy.restore import Restores
from privacy.runner import PrivacyRunner
from privacy.watch import WATCH_TASK, PrivacyWatch

if TYPE_CHECKING:
    from migration.wiring import Migration


@dataclass
class Privacy:
    requests: PrivacyRequests
    runner: PrivacyRunner
    watch: PrivacyWatch
    restores: Restores
    files: FileStore
    local_files: LocalFiles | None
    """What serves the file store's links at /files, when the app serves them (local)."""
    accounts: SubjectLookup | None = None
    """Firebase Auth's accounts, where the app's users sign in with it."""

    def register(self, handlers: TaskHandlers) -> None:
        handlers.register(RUN_TASK, self.runner)
        handlers.register(WATCH_TASK, self.watch.run)


def build_privacy(
    settings: Settings,
    engine: AsyncEngine,
    scheduler: TaskScheduler,
    clock: Clock,
    migration: Migration | None,
    unit_of_work: UnitOfWorkFactory,
) -> Privacy:
    files, local_files = file_store(settings, clock)

    def store() -> PrivacyStore:
        return PostgresPrivacyStore(engine)

    # A process that takes no requests (the relay) has no key: nothing it hashes is kept.
    hasher = SubjectHasher(subject_key(settings) if settings.privacy_requests else b"")
    requests = PrivacyRequests(store, scheduler, hasher, clock, files)
    personal: dict[DataStore, PersonalData] = {
        DataStore.POSTGRES: PostgresPersonalData(engine),
        DataStore.FILES: ExportArchives(files, store, hasher),
    }
    absent = {DataStore.CLOUD_TASKS, DataStore.REDIS}  # ids only, gone by themselves
    revoke, accounts = None, None
    if migration is None:
        absent.add(DataStore.FIRESTORE)
    else:
        personal[DataStore.FIRESTORE] = migration.personal_data
    if settings.auth_mode is AuthMode.DEV:
        absent.add(DataStore.FIREBASE_AUTH)
    else:
        from identity.firebase_accounts import FirebaseAccounts

        assert settings.firebase_project_id is not None  # check() guarantees it
        accounts = FirebaseAccounts(settings.firebase_project_id)
        personal[DataStore.FIREBASE_AUTH] = accounts
        revoke = accounts.revoke_sessions
    runner = PrivacyRunner(
        store, personal, files, scheduler, clock,
        optional=frozenset(absent), revoke_sessions=revoke,
        derived=DerivedStats(unit_of_work, clock),
    )  # fmt: skip
    watch = PrivacyWatch(store, files, scheduler, clock=clock)
    restores = Restores(requests, store, files)
    return Privacy(requests, runner, watch, restores, files, local_files, accounts)


def file_store(settings: Settings, clock: Clock) -> tuple[FileStore, LocalFiles | None]:
    """The file store, and what serves its links when the app serves them (the local one)."""
    match settings.files_transport:
        case FilesTransport.GCS:
            from datastore.files.gcs import GcsConfig, GcsFileStore

            assert settings.files_bucket is not None  # check() guarantees it
            config = GcsConfig(
                bucket=settings.files_bucket,
                project_id=settings.firebase_project_id,
                signing_key_file=settings.files_signing_key_file,
                emulator_host=settings.storage_emulator_host,
            )
            return GcsFileStore.from_config(config), None
        case FilesTransport.LOCAL:
            from datastore.files.local import LocalFileStore, verify_signed_url
            from identity.dev_issuer import load_or_create_secret

            secret = load_or_create_secret(settings.data_dir / "files-url-secret")
            base = settings.public_base_url.rstrip("/")
            store = LocalFileStore(
                settings.data_dir / "files", secret=secret, url_path=f"{base}/files", clock=clock
            )
            return store, _LocalFiles(store, secret, verify_signed_url, clock)


def subject_key(settings: Settings) -> bytes:
    if settings.privacy_subject_key is not None:
        return settings.privacy_subject_key.get_secret_value().encode()
    from identity.dev_issuer import load_or_create_secret

    return load_or_create_secret(settings.data_dir / "privacy-subject-key")


class _LocalFiles:
    """The local file store's links as the API serves them."""

    def __init__(
        self,
        store: FileStore,
        secret: bytes,
        verify: Callable[..., bool],
        clock: Clock,
    ) -> None:
        self._store = store
        self._secret = secret
        self._verify = verify
        self._clock = clock

    def verify(self, key: str, expires: str, signature: str) -> bool:
        return self._verify(self._secret, key, expires, signature, now=self._clock())

    def read(self, key: str) -> AsyncIterator[bytes]:
        return self._store.read(key)
