"""The file store on a Google Cloud Storage bucket (`google-cloud-storage`, ADR 0017).

The client is synchronous: each call runs in a worker thread. Uploads are resumable uploads
sent in chunks of `chunk_size` (memory stays bounded by one chunk); the object exists only
once the last chunk is in, and an upload that fails midway is cancelled, so nothing appears.
Signed URLs are V4, signed with a service-account key when one is given, else through the IAM
signBlob API as the client's own service account (Cloud Run, no key file).
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import google.cloud.storage as storage  # untyped: `from google.cloud import` trips mypy
from google.api_core.exceptions import NotFound
from google.auth.transport.requests import Request
from google.oauth2 import service_account

from datastore.files import as_chunks
from domain.files import (
    DEFAULT_CONTENT_TYPE,
    Content,
    FileMissing,
    StoredFile,
    check_expiry,
    check_key,
)

CHUNK_MULTIPLE = 256 * 1024
"""Resumable uploads take chunks of a multiple of 256 KiB."""
DEFAULT_CHUNK_BYTES = 32 * CHUNK_MULTIPLE  # 8 MiB


@dataclass(frozen=True, slots=True)
class GcsConfig:
    bucket: str
    project_id: str | None = None
    signing_key_file: Path | None = None
    """A service-account JSON key to sign URLs with (default: IAM signBlob as the client's
    account, which needs `roles/iam.serviceAccountTokenCreator` on itself)."""
    emulator_host: str | None = None
    """`http://127.0.0.1:9023`: talk to an emulator, unauthenticated (as STORAGE_EMULATOR_HOST)."""
    chunk_size: int = DEFAULT_CHUNK_BYTES


def gcs_client(config: GcsConfig) -> storage.Client:
    """The client the composition root builds: the emulator's, or Google's with the
    Application Default Credentials."""
    if config.emulator_host:
        return storage.Client(
            project=config.project_id or "emulator",
            client_options={"api_endpoint": config.emulator_host},
            use_auth_w_custom_endpoint=False,
        )
    return storage.Client(project=config.project_id)


class GcsFileStore:
    def __init__(
        self,
        client: storage.Client,
        bucket: str,
        *,
        signing_credentials: service_account.Credentials | None = None,
        chunk_size: int = DEFAULT_CHUNK_BYTES,
    ) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_MULTIPLE:
            raise ValueError(f"chunk_size must be a positive multiple of {CHUNK_MULTIPLE}")
        self._client = client
        self._bucket = client.bucket(bucket)
        self._signer = signing_credentials
        self._chunk_size = chunk_size

    @classmethod
    def from_config(cls, config: GcsConfig) -> GcsFileStore:
        signer = None
        if config.signing_key_file is not None:
            key_file = str(config.signing_key_file)
            signer = service_account.Credentials.from_service_account_file(key_file)  # type: ignore[no-untyped-call]
        client = gcs_client(config)
        return cls(client, config.bucket, signing_credentials=signer, chunk_size=config.chunk_size)

    async def put(
        self, key: str, content: Content, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> StoredFile:
        blob = self._bucket.blob(check_key(key), chunk_size=self._chunk_size)
        writer: Any = blob.open("wb", content_type=content_type, checksum="crc32c")
        digest, size = hashlib.sha256(), 0
        try:
            async for chunk in as_chunks(content):
                digest.update(chunk)
                size += len(chunk)
                await anyio.to_thread.run_sync(writer.write, chunk)
            await anyio.to_thread.run_sync(writer.close)
        except BaseException:
            # Cancels the resumable upload: the object was never finalised.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(writer.terminate)
            raise
        return StoredFile(key=key, size=size, sha256=digest.hexdigest())

    async def read(self, key: str) -> AsyncIterator[bytes]:
        blob = self._bucket.blob(check_key(key))
        reader: Any = blob.open("rb", chunk_size=self._chunk_size)
        try:
            while chunk := await anyio.to_thread.run_sync(reader.read, self._chunk_size):
                yield chunk
        except NotFound as missing:
            raise FileMissing(key) from missing
        finally:
            reader.close()

    async def exists(self, key: str) -> bool:
        blob = self._bucket.blob(check_key(key))
        found: bool = await anyio.to_thread.run_sync(blob.exists)
        return found

    async def copy(self, source: str, target: str) -> None:
        """A server-side copy (the bytes never pass through this process)."""
        blob = self._bucket.blob(check_key(source))
        check_key(target)
        try:
            await anyio.to_thread.run_sync(
                lambda: self._bucket.copy_blob(blob, self._bucket, new_name=target)
            )
        except NotFound as missing:
            raise FileMissing(source) from missing

    async def delete(self, key: str) -> None:
        blob = self._bucket.blob(check_key(key))
        with contextlib.suppress(NotFound):  # idempotent: already gone
            await anyio.to_thread.run_sync(blob.delete)

    async def delete_prefix(self, prefix: str) -> int:
        keys = await self.list(prefix)
        for key in keys:
            await self.delete(key)
        return len(keys)

    async def list(self, prefix: str = "") -> builtins.list[str]:
        check_key(prefix, prefix=True)

        def names() -> builtins.list[str]:
            blobs = self._client.list_blobs(self._bucket, prefix=prefix or None)
            return sorted(blob.name for blob in blobs)

        return await anyio.to_thread.run_sync(names)

    async def signed_url(self, key: str, expires_in: timedelta) -> str:
        blob = self._bucket.blob(check_key(key))
        expiration = check_expiry(expires_in)
        return await anyio.to_thread.run_sync(self._sign, blob, expiration)

    def _sign(self, blob: storage.Blob, expiration: timedelta) -> str:
        signing: dict[str, Any] = {"credentials": self._signer}
        if self._signer is None:
            # No private key here (Cloud Run): IAM signBlob as the client's own account.
            credentials: Any = self._client._credentials
            credentials.refresh(Request())
            signing = {
                "service_account_email": credentials.service_account_email,
                "access_token": credentials.token,
            }
        url: str = blob.generate_signed_url(
            version="v4", expiration=expiration, method="GET", **signing
        )
        return url
