"""The file store on a local folder (the embedded default, `<data_dir>/files`), and the app's own
signed URLs for it: `/files/<key>?expires=<unix>&signature=<hmac>`, checked by
`verify_signed_url` in the route that serves them.

A file is written to `<root>/.tmp/` while it streams in, then `os.replace`d onto its key: it
appears whole or not at all. Keys never start a segment with `.`, so `.tmp` is no key's.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import hmac
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlencode

import anyio.to_thread

from datastore.files import as_chunks
from domain.common import Clock, utc_now
from domain.files import (
    DEFAULT_CONTENT_TYPE,
    Content,
    FileMissing,
    StoredFile,
    check_expiry,
    check_key,
)

READ_CHUNK_BYTES = 1024 * 1024
TEMPORARY_FOLDER = ".tmp"


class LocalFileStore:
    """Files under `root`; signed URLs on the app itself under `url_path`, signed with
    `secret` (the same secret the serving route passes to `verify_signed_url`)."""

    def __init__(
        self,
        root: Path,
        *,
        secret: bytes,
        url_path: str = "/files",
        clock: Clock = utc_now,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the signing secret must have at least 16 bytes")
        self._root = root
        self._secret = secret
        self._url_path = url_path.rstrip("/")
        self._clock = clock

    async def put(
        self, key: str, content: Content, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> StoredFile:
        target = self._path(key)
        temporary = self._root / TEMPORARY_FOLDER / f"{uuid.uuid4().hex}.part"
        await anyio.to_thread.run_sync(_make_parent, temporary)
        digest, size = hashlib.sha256(), 0
        out = await anyio.to_thread.run_sync(temporary.open, "wb")
        try:
            async for chunk in as_chunks(content):
                digest.update(chunk)
                size += len(chunk)
                await anyio.to_thread.run_sync(out.write, chunk)
            await anyio.to_thread.run_sync(_close_synced, out)
            await anyio.to_thread.run_sync(_move, temporary, target)
        except BaseException:
            out.close()
            temporary.unlink(missing_ok=True)
            raise
        return StoredFile(key=key, size=size, sha256=digest.hexdigest())

    async def read(self, key: str) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            source = await anyio.to_thread.run_sync(path.open, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as missing:
            raise FileMissing(key) from missing
        with source:
            while chunk := await anyio.to_thread.run_sync(source.read, READ_CHUNK_BYTES):
                yield chunk

    async def exists(self, key: str) -> bool:
        return await anyio.to_thread.run_sync(self._path(key).is_file)

    async def copy(self, source: str, target: str) -> None:
        """A hard link under a temporary name, then moved into place: no byte is copied, and
        a later `put` of either key writes a new file, never the one they share."""
        origin, destination = self._path(source), self._path(target)
        temporary = self._root / TEMPORARY_FOLDER / f"{uuid.uuid4().hex}.part"
        await anyio.to_thread.run_sync(_make_parent, temporary)
        try:
            await anyio.to_thread.run_sync(os.link, origin, temporary)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as missing:
            raise FileMissing(source) from missing
        try:
            await anyio.to_thread.run_sync(_move, temporary, destination)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    async def delete(self, key: str) -> None:
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            await anyio.to_thread.run_sync(path.unlink)

    async def delete_prefix(self, prefix: str) -> int:
        keys = await self.list(prefix)
        for key in keys:
            await self.delete(key)
        return len(keys)

    async def list(self, prefix: str = "") -> builtins.list[str]:
        check_key(prefix, prefix=True)
        return await anyio.to_thread.run_sync(self._list, prefix)

    async def signed_url(self, key: str, expires_in: timedelta) -> str:
        check_key(key)
        expires = int((self._clock() + check_expiry(expires_in)).timestamp())
        query = urlencode({"expires": expires, "signature": sign(self._secret, key, expires)})
        return f"{self._url_path}/{quote(key, safe='/')}?{query}"

    def _path(self, key: str) -> Path:
        return self._root / check_key(key)

    def _list(self, prefix: str) -> builtins.list[str]:
        # Walk only the folder the prefix's complete segments name, then match the rest.
        folder = self._root / prefix.rpartition("/")[0]
        return sorted(key for key in _files_under(folder, self._root) if key.startswith(prefix))


def sign(secret: bytes, key: str, expires: int) -> str:
    """The signature of a local signed URL: HMAC-SHA256 of the key and its expiry."""
    message = f"{key}\n{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def verify_signed_url(
    secret: bytes, key: str, expires: str, signature: str, *, now: datetime
) -> bool:
    """Whether `(key, expires, signature)`, as the route received them (the path's key
    unquoted, the two query values as strings), was signed with `secret` and has not expired
    at `now`. Constant-time on the signature; false for any malformed part."""
    if not expires.isascii() or not expires.isdigit() or len(expires) > 12:
        return False
    expected = sign(secret, key, int(expires))
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return False
    return now.timestamp() < int(expires)


def _make_parent(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)


def _close_synced(out: BinaryIO) -> None:
    out.flush()
    os.fsync(out.fileno())
    out.close()


def _move(temporary: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temporary, target)


def _files_under(folder: Path, root: Path) -> Iterator[str]:
    if not folder.is_dir():
        return
    for directory, subfolders, files in os.walk(folder):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in files:
            if not name.startswith("."):
                yield (Path(directory) / name).relative_to(root).as_posix()
