"""The file store contract (`domain.files.FileStore`), run against the local folder adapter
and the GCS adapter on the emulator; then each adapter's signed URLs."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from datastore.files.gcs import GcsFileStore
from datastore.files.local import TEMPORARY_FOLDER, LocalFileStore, verify_signed_url
from domain.files import FileMissing, FileStore, InvalidFileKey, SignedUrlTooLong
from tests.integration.files import v4_signature
from tests.integration.files.conftest import LOCAL_SECRET
from tests.support.gcs_emulator import GcsEmulator

pytestmark = pytest.mark.anyio

EXPORT = "privacy/exports/0197a1b2-export.zip"
SEVEN_DAYS = timedelta(days=7)


async def _streamed(data: bytes, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), chunk):
        yield data[start : start + chunk]


async def _failing_after(data: bytes) -> AsyncIterator[bytes]:
    async for chunk in _streamed(data):
        yield chunk
    raise ConnectionResetError("the export's source went away")


async def _read(store: FileStore, key: str) -> bytes:
    return b"".join([chunk async for chunk in store.read(key)])


async def test_a_streamed_file_comes_back_whole_with_its_sha256(file_store: FileStore) -> None:
    data = os.urandom(5 * 1024 * 1024 + 123)

    stored = await file_store.put(EXPORT, _streamed(data), "application/zip")

    assert (stored.key, stored.size) == (EXPORT, len(data))
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    chunks = [chunk async for chunk in file_store.read(EXPORT)]
    assert len(chunks) > 1, "read in chunks, not all at once"
    assert b"".join(chunks) == data
    assert await file_store.exists(EXPORT)


async def test_bytes_and_unusual_names_are_stored_too(file_store: FileStore) -> None:
    key = "privacy/exports/ünï cødé + 100%.zip"

    stored = await file_store.put(key, b"small")

    assert stored.sha256 == hashlib.sha256(b"small").hexdigest()
    assert await _read(file_store, key) == b"small"
    assert await file_store.list("privacy/") == [key]


async def test_an_upload_failing_midway_leaves_nothing_visible(file_store: FileStore) -> None:
    with pytest.raises(ConnectionResetError):
        await file_store.put(EXPORT, _failing_after(os.urandom(1024 * 1024)))

    assert not await file_store.exists(EXPORT)
    assert await file_store.list() == []
    with pytest.raises(FileMissing):
        await _read(file_store, EXPORT)


async def test_a_failed_replacement_keeps_the_earlier_file(file_store: FileStore) -> None:
    await file_store.put(EXPORT, b"the first export")

    with pytest.raises(ConnectionResetError):
        await file_store.put(EXPORT, _failing_after(os.urandom(600 * 1024)))

    assert await _read(file_store, EXPORT) == b"the first export"


async def test_a_put_replaces_the_file(file_store: FileStore) -> None:
    await file_store.put(EXPORT, b"the first export")
    await file_store.put(EXPORT, b"the second")

    assert await _read(file_store, EXPORT) == b"the second"


async def test_a_copy_holds_the_same_bytes_and_replaces_the_target(file_store: FileStore) -> None:
    await file_store.put("staging/a.parquet", b"the rows")
    await file_store.put("published/a.parquet", b"older rows")

    await file_store.copy("staging/a.parquet", "published/a.parquet")

    assert await _read(file_store, "published/a.parquet") == b"the rows"
    assert await _read(file_store, "staging/a.parquet") == b"the rows"
    await file_store.put("staging/a.parquet", b"rewritten")  # the copy is its own file
    await file_store.delete("staging/a.parquet")
    assert await _read(file_store, "published/a.parquet") == b"the rows"
    with pytest.raises(FileMissing):
        await file_store.copy("staging/none.parquet", "published/b.parquet")
    assert not await file_store.exists("published/b.parquet")
    with pytest.raises(InvalidFileKey):
        await file_store.copy("staging/a.parquet", "../a.parquet")


async def test_deleting_is_idempotent(file_store: FileStore) -> None:
    await file_store.put(EXPORT, b"zip")

    await file_store.delete(EXPORT)
    await file_store.delete(EXPORT)
    await file_store.delete("privacy/exports/never-there.zip")

    assert not await file_store.exists(EXPORT)
    with pytest.raises(FileMissing):
        await _read(file_store, EXPORT)


async def test_listing_matches_keys_by_string_prefix_in_order(file_store: FileStore) -> None:
    keys = ["privacy/exports/b.zip", "privacy/exports/a.zip", "privacy/erasures/x.json", "z"]
    for key in keys:
        await file_store.put(key, key.encode())

    assert await file_store.list() == sorted(keys)
    assert await file_store.list("privacy/exports/") == [
        "privacy/exports/a.zip",
        "privacy/exports/b.zip",
    ]
    assert await file_store.list("privacy/e") == sorted(keys[:3])
    assert await file_store.list("privacy/exports/a") == ["privacy/exports/a.zip"]
    assert await file_store.list("exports/") == []


async def test_delete_prefix_deletes_only_under_the_prefix(file_store: FileStore) -> None:
    kept = "privacy/erasures/x.json"
    for key in ["privacy/exports/u1/a.zip", "privacy/exports/u1/b.zip", kept]:
        await file_store.put(key, b"x")

    assert await file_store.delete_prefix("privacy/exports/") == 2
    assert await file_store.delete_prefix("privacy/exports/") == 0
    assert await file_store.list() == [kept]


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs.zip", "a/../../b", "a\\b", "a\x00b", ""])
async def test_unsafe_keys_are_refused_by_every_operation(file_store: FileStore, key: str) -> None:
    with pytest.raises(InvalidFileKey):
        await file_store.put(key, b"x")
    with pytest.raises(InvalidFileKey):
        await _read(file_store, key)
    with pytest.raises(InvalidFileKey):
        await file_store.exists(key)
    with pytest.raises(InvalidFileKey):
        await file_store.delete(key)
    with pytest.raises(InvalidFileKey):
        await file_store.signed_url(key, timedelta(hours=1))
    if key:  # "" is the prefix of everything
        with pytest.raises(InvalidFileKey):
            await file_store.list(key)
        with pytest.raises(InvalidFileKey):
            await file_store.delete_prefix(key)


@pytest.mark.parametrize("lifetime", [SEVEN_DAYS + timedelta(seconds=1), timedelta(0)])
async def test_a_signed_url_beyond_seven_days_is_refused(
    file_store: FileStore, lifetime: timedelta
) -> None:
    with pytest.raises(SignedUrlTooLong):
        await file_store.signed_url(EXPORT, lifetime)
    assert await file_store.signed_url(EXPORT, SEVEN_DAYS)


async def test_a_local_upload_leaves_no_temporary_file(
    local_store: LocalFileStore, tmp_path: Path
) -> None:
    await local_store.put(EXPORT, _streamed(os.urandom(300_000)))
    with pytest.raises(ConnectionResetError):
        await local_store.put("privacy/exports/other.zip", _failing_after(b"x" * 300_000))

    root = tmp_path / "files"  # as the fixture made it
    assert list((root / TEMPORARY_FOLDER).iterdir()) == []
    assert sorted(p.name for p in (root / "privacy/exports").iterdir()) == [EXPORT.split("/")[-1]]


async def test_a_local_signed_url_is_verified_against_key_expiry_and_signature(
    local_store: LocalFileStore,
) -> None:
    key = "privacy/exports/ünï code.zip"
    url = urlsplit(await local_store.signed_url(key, timedelta(hours=1)))
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert url.path.startswith("/files/")
    # What the route gets: the key from the path (unquoted), the rest from the query.
    got_key, expires, signature = unquote(url.path.removeprefix("/files/")), *query.values()
    now = datetime.now(UTC)
    assert int(expires) == pytest.approx((now + timedelta(hours=1)).timestamp(), abs=5)

    assert verify_signed_url(LOCAL_SECRET, got_key, expires, signature, now=now)
    assert not verify_signed_url(
        LOCAL_SECRET, "privacy/exports/other.zip", expires, signature, now=now
    )
    assert not verify_signed_url(LOCAL_SECRET, got_key, expires, "0" * 64, now=now)
    assert not verify_signed_url(
        LOCAL_SECRET, got_key, str(int(expires) + 3600), signature, now=now
    )
    assert not verify_signed_url(
        b"another-secret-of-16-bytes", got_key, expires, signature, now=now
    )
    expired = datetime.fromtimestamp(int(expires), UTC)
    assert not verify_signed_url(LOCAL_SECRET, got_key, expires, signature, now=expired)


async def test_a_gcs_signed_url_is_v4_signed_and_downloads_the_file(
    gcs_store: GcsFileStore, gcs_emulator: GcsEmulator
) -> None:
    data = os.urandom(2 * 1024 * 1024)
    await gcs_store.put(EXPORT, _streamed(data), "application/zip")

    url = await gcs_store.signed_url(EXPORT, timedelta(hours=1))

    query = parse_qs(urlsplit(url).query)
    assert query["X-Goog-Algorithm"] == ["GOOG4-RSA-SHA256"]
    assert query["X-Goog-Expires"] == ["3600"]
    assert query["X-Goog-Credential"][0].startswith(gcs_emulator.service_account_email + "/")
    expected_end = datetime.now(UTC) + timedelta(hours=1)
    assert abs(v4_signature.valid_until(url) - expected_end) < timedelta(seconds=10)
    public_key = _public_key(gcs_emulator)
    assert v4_signature.is_signed_by(url, public_key)
    assert not v4_signature.is_signed_by(url.replace("export.zip", "exporT.zip"), public_key)
    assert not v4_signature.is_signed_by(
        url.replace("X-Goog-Expires=3600", "X-Goog-Expires=7200"), public_key
    )
    download = httpx2.get(url)
    assert download.status_code == 200
    assert download.content == data


async def test_a_seven_day_gcs_url_says_so(gcs_store: GcsFileStore) -> None:
    url = await gcs_store.signed_url(EXPORT, SEVEN_DAYS)

    assert parse_qs(urlsplit(url).query)["X-Goog-Expires"] == ["604800"]


def _public_key(emulator: GcsEmulator) -> rsa.RSAPublicKey:
    pem = json.loads(emulator.key_file.read_text())["private_key"].encode()
    private = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    return private.public_key()
