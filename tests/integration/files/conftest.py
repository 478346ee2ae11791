"""Fixtures of the file store tests: the GCS emulator once per session, and each adapter of
`domain.files.FileStore` on an empty store of its own per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import storage
from google.oauth2 import service_account

from datastore.files.gcs import GcsConfig, GcsFileStore, gcs_client
from datastore.files.local import LocalFileStore
from domain.files import FileStore
from tests.support.gcs_emulator import GcsEmulator, running_gcs_emulator

LOCAL_SECRET = b"a-local-signing-secret-for-tests"
GCS_CHUNK_BYTES = 256 * 1024
"""The smallest chunk resumable uploads take: a multi-megabyte file goes in many chunks."""


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[GcsEmulator]:
    with running_gcs_emulator() as emulator:
        yield emulator


@pytest.fixture(scope="session")
def gcs_client_on_emulator(gcs_emulator: GcsEmulator) -> Iterator[storage.Client]:
    client = gcs_client(GcsConfig(bucket="unused", emulator_host=gcs_emulator.url))
    yield client
    client.close()


@pytest.fixture
def local_store(tmp_path: Path) -> LocalFileStore:
    return LocalFileStore(tmp_path / "files", secret=LOCAL_SECRET)


@pytest.fixture
def gcs_store(gcs_emulator: GcsEmulator, gcs_client_on_emulator: storage.Client) -> GcsFileStore:
    signer = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
        str(gcs_emulator.key_file)
    )
    return GcsFileStore(
        gcs_client_on_emulator,
        gcs_emulator.new_bucket(),
        signing_credentials=signer,
        chunk_size=GCS_CHUNK_BYTES,
    )


@pytest.fixture(params=["local", "gcs"])
def file_store(request: pytest.FixtureRequest) -> FileStore:
    """The same contract, run against every adapter."""
    store: FileStore = request.getfixturevalue(f"{request.param}_store")
    return store
