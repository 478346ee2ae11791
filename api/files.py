"""/files/{key}: the local file store's signed links (the embedded default; GCS serves its own
in production). Unauthenticated like a GCS signed URL: the signature and its expiry are the
permission, and a link that fails either is a 403 that says nothing of the file."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Query
from starlette.responses import Response, StreamingResponse

from api.deps import Services
from domain.errors import Forbidden, NotFound
from domain.files import FileMissing, InvalidFileKey

router = APIRouter(tags=["files"])


@router.get("/files/{key:path}", include_in_schema=False)
async def get_file(
    key: str, svc: Services, expires: str = Query(""), signature: str = Query("")
) -> Response:
    files = svc.local_files
    if files is None:
        raise NotFound(detail="no local files here")
    try:
        valid = files.verify(key, expires, signature)
    except InvalidFileKey:
        valid = False
    if not valid:
        raise Forbidden(code="link_invalid", detail="this link is invalid or has expired")
    chunks = files.read(key)
    try:
        first = await anext(chunks)
    except FileMissing:
        raise NotFound(detail="the file is no longer kept") from None
    except StopAsyncIteration:
        first = b""

    async def body() -> AsyncIterator[bytes]:
        yield first
        async for chunk in chunks:
            yield chunk

    name = key.rsplit("/", 1)[-1]
    return StreamingResponse(
        body(),
        media_type="application/zip" if name.endswith(".zip") else "application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )
