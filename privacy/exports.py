"""The export archive: one JSON file per kind of data (and CSV for the tables), a README with
what Art. 15 says the subject is told, and a manifest with each file's SHA-256.

Each kind is written as a part under the request's staging prefix by its own step (streamed:
records are never all in memory); the archive step zips the parts, stores the ZIP under
`privacy/exports/<request id>.zip`, then drops the staging prefix. Run again, a step writes its
part whole again; the archive step finds its ZIP and the parts gone and writes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
import zipfile
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.files import FileStore
from domain.privacy.model import PrivacyRequest, RequestKind
from domain.privacy.ports import PrivacyStore, RequestFilter
from domain.user_data import REGISTRY, DataStore, UserData

EXPORTS = "privacy/exports/"
_PIECE = 256 * 1024
"""What the file store is handed at a time: a record at a time cost a thread hop each."""
STAGING = "privacy/staging/"
_CHUNK = 1 << 20


def archive_key(request_id: UUID) -> str:
    return f"{EXPORTS}{request_id}.zip"


def _part_key(request_id: UUID, name: str) -> str:
    return f"{STAGING}{request_id}/{name}"


@dataclass(frozen=True, slots=True)
class Archive:
    key: str
    files: int
    size: int


class ExportWriter:
    def __init__(self, files: FileStore) -> None:
        self._files = files

    async def write_part(
        self, request_id: UUID, entry: UserData, records: AsyncIterator[Mapping[str, Any]]
    ) -> int:
        """Writes `<entry>.json` (and `<entry>.csv` for a table) to staging; the record count."""
        counted = _Counter()
        tabular = entry.store is DataStore.POSTGRES
        spooled = tempfile.SpooledTemporaryFile(max_size=8 * _CHUNK)  # noqa: SIM115
        with spooled:
            await self._files.put(
                _part_key(request_id, f"{entry.name}.json"),
                _json_array(records, counted, spooled if tabular else None),
                "application/json",
            )
            if tabular:
                spooled.seek(0)
                await self._files.put(
                    _part_key(request_id, f"{entry.name}.csv"), _csv(spooled), "text/csv"
                )
        return counted.value

    async def write_document(
        self, request_id: UUID, name: str, document: Mapping[str, Any]
    ) -> None:
        """A part that is one JSON document (`<name>.json`)."""
        encoded = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1).encode()
        await self._files.put(_part_key(request_id, f"{name}.json"), encoded, "application/json")

    async def archive(self, request: PrivacyRequest, at: datetime) -> Archive:
        key = archive_key(request.id)
        staged = await self._files.list(f"{STAGING}{request.id}/")
        if not staged and await self._files.exists(key):
            return Archive(key, 0, 0)  # done before: the worker stopped after storing it
        manifest: dict[str, Any] = {"request": str(request.id), "created_at": at.isoformat()}
        digests: dict[str, str] = {}
        with tempfile.TemporaryFile() as raw:
            with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                readme = readme_text(request, at).encode()
                archive.writestr("README.txt", readme)
                digests["README.txt"] = hashlib.sha256(readme).hexdigest()
                for part in staged:
                    name = part.rsplit("/", 1)[1]
                    digest = hashlib.sha256()
                    with archive.open(name, "w") as out:
                        async for chunk in self._files.read(part):
                            digest.update(chunk)
                            out.write(chunk)
                    digests[name] = digest.hexdigest()
                manifest["files"] = digests
                archive.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
            size = raw.tell()
            raw.seek(0)
            await self._files.put(key, _chunks(raw), "application/zip")
        await self._files.delete_prefix(f"{STAGING}{request.id}/")
        return Archive(key, len(digests) + 1, size)


class _Counter:
    value = 0


async def _json_array(
    records: AsyncIterator[Mapping[str, Any]], counted: _Counter, lines: Any | None
) -> AsyncIterator[bytes]:
    """A JSON array, one record per line, streamed; each record also as a JSON line to
    `lines` (from which the CSV is made)."""
    piece = bytearray(b"[\n")
    async for record in records:
        encoded = json.dumps(record, ensure_ascii=False, sort_keys=True).encode()
        piece += (b",\n" if counted.value else b"") + encoded
        if lines is not None:
            lines.write(encoded + b"\n")
        counted.value += 1
        if len(piece) >= _PIECE:
            yield bytes(piece)
            piece.clear()
    piece += b"\n]\n"
    yield bytes(piece)


async def _csv(lines: Any) -> AsyncIterator[bytes]:
    """The table's records as CSV: columns of the first record, nested values as JSON."""
    header: list[str] | None = None
    text = io.StringIO()
    writer = csv.writer(text)
    for line in lines:
        record = json.loads(line)
        if header is None:
            header = sorted(record)
            writer.writerow(header)
        writer.writerow([_cell(record.get(column)) for column in header])
        if text.tell() >= _PIECE:
            yield text.getvalue().encode()
            text.seek(0)
            text.truncate()
    if text.tell():
        yield text.getvalue().encode()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


async def _chunks(raw: Any) -> AsyncIterator[bytes]:
    while chunk := raw.read(_CHUNK):
        yield chunk


def readme_text(request: PrivacyRequest, at: datetime) -> str:
    """What Art. 15(1) and (2) say the subject is told, with what this archive holds."""
    kinds = "\n".join(
        f"- {e.name}: {e.holds} (kept {e.retention}; source: "
        f"{'you, through the app' if e.store is not DataStore.FIREBASE_AUTH else 'your sign-in'})"
        for e in REGISTRY
        if e.exported
    )
    return f"""Your Focus data
================

This archive answers your request {request.id}, received {request.received_at.date()}, made
{at.date()}. It holds every record we keep about you, one JSON file per kind of data (and a
CSV copy of each table), and manifest.json with each file's SHA-256 checksum.

What we hold and why (Art. 15(1)(a)-(d), (g))
---------------------------------------------
Purpose: to run the Focus app for you (blocking, focus sessions, schedules, screen-time
reports and streaks) and to keep it secure. Legal basis: the contract with you (Art. 6(1)(b));
analytics and AI features only with your consent (Art. 6(1)(a)), which you can withdraw in the
app at any time.

{kinds}

derived_stats.json: what we compute from your focus sessions (your streaks and your focus per
day over the last year), as the app shows it.

Files named firestore_* are the copies the app's earlier versions keep while our move to a new
database is under way; they hold the same records.

Recipients (Art. 15(1)(c)): our processors Google Cloud (hosting, sign-in), Apple and Google
(delivering notifications to your devices). We sell your data to no one. Push tokens are shown
shortened: they identify a device to Apple or Google and are useless to anyone else.

Your rights (Art. 15(1)(e), (f)): you may ask us to correct or erase your data, to restrict or
object to its processing, and to receive it in this machine-readable form (Art. 20). You may
complain to a supervisory authority, in particular in the EU member state where you live or
work. Automated decisions with legal effect (Art. 22): none.
"""


class ExportArchives:
    """The bucket's part of a request (`privacy_exports` in the registry): the archives of the
    subject's earlier export requests, found through their requests (by the subject's hash)."""

    store = DataStore.FILES

    def __init__(
        self, files: FileStore, requests: Callable[[], PrivacyStore], hasher: Callable[[str], str]
    ) -> None:
        self._files = files
        self._requests = requests
        self._hash = hasher

    async def _keys(self, uid: str) -> list[str]:
        where = RequestFilter(
            kinds=(RequestKind.EXPORT,), subject_hash=self._hash(uid), limit=10_000
        )
        async with self._requests() as store:
            found = await store.find(where)
        keys = []
        for request in found:
            keys += await self._files.list(f"{STAGING}{request.id}/")
            if await self._files.exists(archive_key(request.id)):
                keys.append(archive_key(request.id))
        return keys

    async def count(self, entry: UserData, uid: str) -> int:
        return len(await self._keys(uid))

    async def read(self, entry: UserData, uid: str) -> AsyncIterator[Mapping[str, Any]]:
        for key in await self._keys(uid):
            yield {"file": key}

    async def erase(self, entry: UserData, uid: str) -> int:
        keys = await self._keys(uid)
        for key in keys:
            await self._files.delete(key)
        return len(keys)
