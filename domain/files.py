"""The file store port: whole files (GDPR export archives, …) kept under relative keys, written
by streaming, handed over through signed URLs that expire; and the one rule for a valid key.

Adapters (`datastore/files/`): a local folder (the embedded default) and a GCS bucket. A file
appears whole or not at all: an upload that fails midway leaves nothing under its key.
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

MAX_SIGNED_URL_LIFETIME = timedelta(days=7)
"""What GCS V4 signing allows, and so the longest any adapter hands out."""
MAX_KEY_BYTES = 1024
"""GCS's limit on an object name (UTF-8)."""
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class InvalidFileKey(ValueError):
    """A key (or prefix) that could escape the store's root or that a store cannot hold."""


class FileMissing(LookupError):
    """Nothing is stored under the key."""


class SignedUrlTooLong(ValueError):
    """A signed URL was asked for longer than `MAX_SIGNED_URL_LIFETIME` (or for no time)."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    key: str
    size: int
    sha256: str
    """Hex digest of the bytes as stored, computed while they streamed in."""


Content = AsyncIterable[bytes] | bytes


class FileStore(Protocol):
    """Whole files under relative keys such as `privacy/exports/<request-id>.zip`."""

    async def put(
        self, key: str, content: Content, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> StoredFile:
        """Stream `content` in and make it visible under `key` only once it is all there
        (replacing what was there). If the iterator raises, nothing new is visible."""
        ...

    def read(self, key: str) -> AsyncIterator[bytes]:
        """The file's bytes in chunks; raises `FileMissing` (on first iteration) if absent."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def copy(self, source: str, target: str) -> None:
        """Makes `target` hold what `source` holds (replacing it), whole or not at all;
        raises `FileMissing` when `source` holds nothing."""
        ...

    async def delete(self, key: str) -> None:
        """Idempotent: deleting a key that holds nothing is fine."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Deletes every file whose key starts with `prefix`; returns how many."""
        ...

    async def list(self, prefix: str = "") -> list[str]:
        """The keys starting with `prefix` (a plain string prefix, as GCS has it), sorted."""
        ...

    async def signed_url(self, key: str, expires_in: timedelta) -> str:
        """A URL that lets its holder GET the file until `expires_in` from now (at most
        `MAX_SIGNED_URL_LIFETIME`, else `SignedUrlTooLong`). It does not check existence."""
        ...


def check_key(key: str, *, prefix: bool = False) -> str:
    """Returns `key` if it is a safe relative key, else raises `InvalidFileKey`.

    A key is `/`-separated segments, none empty and none starting with `.` (so no `.`, `..`,
    hidden names, nor the local store's temporary files), with no backslash, NUL or other
    control character, not absolute, at most `MAX_KEY_BYTES` of UTF-8. With `prefix`, `""` is
    allowed and the last segment may be empty or partial (`privacy/exports/`, `privacy/exp`).
    """
    if not isinstance(key, str):
        raise InvalidFileKey(f"a key is a string, not {type(key).__name__}")
    if key == "" and prefix:
        return key
    problem = _problem(key, prefix=prefix)
    if problem:
        raise InvalidFileKey(f"invalid file key {key!r}: {problem}")
    return key


def check_expiry(expires_in: timedelta) -> timedelta:
    if expires_in <= timedelta(0) or expires_in > MAX_SIGNED_URL_LIFETIME:
        message = f"a signed URL lives more than 0 and at most 7 days, not {expires_in}"
        raise SignedUrlTooLong(message)
    return expires_in


def _problem(key: str, *, prefix: bool) -> str | None:
    if key == "":
        return "empty"
    if len(key.encode("utf-8", errors="surrogatepass")) > MAX_KEY_BYTES:
        return f"longer than {MAX_KEY_BYTES} bytes"
    if "\\" in key:
        return "backslash"
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in key):
        return "NUL, control character or lone surrogate"
    if key.startswith("/"):
        return "absolute"
    segments = key.split("/")
    if prefix and segments[-1] == "":
        segments.pop()
    for segment in segments:
        if segment == "":
            return "empty segment"
        if segment.startswith("."):
            return "segment starting with '.'"
    return None
