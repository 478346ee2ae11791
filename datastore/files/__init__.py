"""Adapters of the file store port (`domain.files.FileStore`): `local.LocalFileStore` on a
folder (the embedded default) and `gcs.GcsFileStore` on a Google Cloud Storage bucket.

Import the adapter module you need: `gcs` pulls in the Google client, which the embedded
default does not need.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from domain.files import Content


async def as_chunks(content: Content) -> AsyncIterator[bytes]:
    """What `put` was given, as the async stream of chunks both adapters write."""
    if isinstance(content, bytes | bytearray | memoryview):
        yield bytes(content)
        return
    async for chunk in content:
        yield chunk
