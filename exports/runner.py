"""Growth export runs (ADR 0020): for each dataset, the rows written since its watermark, as
Parquet partitions staged in the bucket, then copied into place and announced by a manifest
written last; the watermark moves only with the manifest. A run that stopped half-way (state
`writing`) is resumed over the same window; the files it names are the window's, so a re-run
writes the same keys with the same bytes."""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pyarrow.compute as pc

from domain.common import Clock, new_id
from domain.files import FileStore
from domain.growth.contract import BY_NAME, CONTRACT_VERSION, DATASETS, Dataset
from domain.growth.ports import Columns, GrowthSnapshot, GrowthStore, Run, Window
from exports.parquet import PartitionWriter, record_batch, schema_of, without

log = logging.getLogger(__name__)

ROOT = f"growth/v{CONTRACT_VERSION}"
STAGING = "growth/_staging"
MANIFESTS = f"{ROOT}/_manifests"
BATCH_ROWS = 20_000
FILE_ROWS = 2_000_000
"""A partition's rows per file in one run (more make more files)."""
READ_CHUNK = 1 << 20
FETCH_AHEAD = 2


@dataclass
class Progress:
    """What a run has done so far (the CLI shows it as it goes)."""

    dataset: str
    window: Window
    rows: int = 0
    files: int = 0
    resumed: bool = False


Report = Callable[[Progress], None]


@dataclass
class _Written:
    key: str
    partition: str
    rows: int
    sha256: str
    size: int


@dataclass
class _Partitions:
    """The staged files of one dataset's window, one partition at a time (rows come in
    partition order, so one writer is open at once)."""

    dataset: Dataset
    run: Run
    folder: Path
    files: FileStore
    written: list[_Written] = field(default_factory=list)
    _current: tuple[str, int] | None = None
    _writer: PartitionWriter | None = None

    def name(self, partition: str, part: int) -> str:
        w = self.run.window
        return f"{self.dataset.name}/date={partition}/{w.lower}-{w.upper}-{part:04}.parquet"

    async def add(self, partition: str, batch: Any) -> None:
        if self._current is None or self._current[0] != partition:
            await self.flush()
            self._current = (partition, 0)
        elif self._writer is not None and self._writer.rows >= FILE_ROWS:
            await self.flush()
            self._current = (partition, self._current[1] + 1)
        if self._writer is None:
            path = self.folder / "part.parquet"
            self._writer = PartitionWriter(str(path), batch.schema)
        writer = self._writer
        await anyio.to_thread.run_sync(writer.write, batch)

    async def flush(self) -> None:
        if self._writer is None or self._current is None:
            return
        writer, (partition, part) = self._writer, self._current
        self._writer = None
        await anyio.to_thread.run_sync(writer.close)
        name = self.name(partition, part)
        stored = await self.files.put(
            f"{STAGING}/{self.run.id}/{name}", _chunks(self.folder / "part.parquet")
        )
        self.written.append(_Written(name, partition, writer.rows, stored.sha256, stored.size))


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as source:
        while chunk := await anyio.to_thread.run_sync(source.read, READ_CHUNK):
            yield chunk


class GrowthExporter:
    def __init__(self, store: GrowthStore, files: FileStore, clock: Clock) -> None:
        self._store = store
        self._files = files
        self._clock = clock

    @property
    def files(self) -> FileStore:
        """The growth bucket."""
        return self._files

    @property
    def store(self) -> GrowthStore:
        """Runs, watermarks and the forget list (what `focus exports status` shows)."""
        return self._store

    async def run(
        self,
        datasets: Sequence[str] = (),
        *,
        since: int | None = None,
        until: int | None = None,
        report: Report | None = None,
    ) -> list[Progress]:
        """Exports each dataset (all by default) from its watermark; or, again, from `since`
        (a manifest's `lower`) to `until` (its `upper`; now when not given): the same window
        gives the same files, byte for byte, while its rows have not changed since."""
        chosen = [BY_NAME[name] for name in datasets] if datasets else list(DATASETS)
        done: list[Progress] = []
        async with self._store.snapshot() as snapshot:
            for dataset in chosen:
                done.append(await self._export(dataset, snapshot, since, until, report))
        return done

    async def _export(
        self,
        dataset: Dataset,
        snapshot: GrowthSnapshot,
        since: int | None,
        until: int | None,
        report: Report | None,
    ) -> Progress:
        run = await self._store.writing(dataset.name)
        resumed = run is not None
        if run is None:
            lower = await self._store.watermark(dataset.name) if since is None else since
            window = Window(lower, min(snapshot.upper, until or snapshot.upper))
            progress = Progress(dataset.name, window)
            if window.empty:
                return progress
            run = Run(new_id(), dataset.name, CONTRACT_VERSION, window, "writing", self._clock())
            await self._store.start(run)
        progress = Progress(dataset.name, run.window, resumed=resumed)
        schema = schema_of(dataset)
        with tempfile.TemporaryDirectory(prefix="focus-growth-") as folder:
            staged = _Partitions(dataset, run, Path(folder), self._files)
            # The next batch is fetched while this one is keyed and written (at most
            # FETCH_AHEAD batches wait: memory stays bounded).
            send, receive = anyio.create_memory_object_stream[Columns](FETCH_AHEAD)

            async def fetch() -> None:
                async with (
                    send,
                    aclosing(snapshot.batches(dataset, run.window, BATCH_ROWS)) as rows,
                ):
                    async for columns in rows:
                        await send.send(columns)

            try:
                async with anyio.create_task_group() as fetching, receive:
                    fetching.start_soon(fetch)
                    async for columns in receive:
                        batch = await anyio.to_thread.run_sync(
                            record_batch, dataset, schema, columns
                        )
                        in_files = batch.drop_columns([dataset.partition])  # in the path
                        for partition, start, length in _runs_of(batch.column(dataset.partition)):
                            await staged.add(partition, in_files.slice(start, length))
                        progress.rows += batch.num_rows
                        if report is not None:
                            report(progress)
            except BaseExceptionGroup as failed:  # the one failure, not its wrapping
                if len(failed.exceptions) == 1:
                    raise failed.exceptions[0] from failed
                raise
            await staged.flush()
        progress.files = len(staged.written)
        await self._publish(dataset, run, staged.written)
        log.info(
            "growth.exported",
            extra={"dataset": dataset.name, "rows": progress.rows, "files": progress.files},
        )
        if report is not None:
            report(progress)
        return progress

    async def _publish(self, dataset: Dataset, run: Run, written: list[_Written]) -> None:
        for file in written:
            await self._files.copy(f"{STAGING}/{run.id}/{file.key}", f"{ROOT}/{file.key}")
        manifest_key = f"{MANIFESTS}/{dataset.name}/{run.window.lower}-{run.window.upper}.json"
        # The window run again: files of the earlier run that this one did not write (a
        # partition now empty) go, or readers of the folders would still see their rows.
        now_written = {f"{ROOT}/{f.key}" for f in written}
        if await self._files.exists(manifest_key):
            earlier = json.loads(await _read(self._files, manifest_key))
            for entry in earlier["files"]:
                if entry["key"] not in now_written:
                    await self._files.delete(entry["key"])
        rows = sum(f.rows for f in written)
        manifest = {
            "dataset": dataset.name,
            "contract_version": CONTRACT_VERSION,
            "lower": run.window.lower,
            "upper": run.window.upper,
            "rows": rows,
            "files": [
                {
                    "key": f"{ROOT}/{f.key}",
                    "partition": f.partition,
                    "rows": f.rows,
                    "sha256": f.sha256,
                    "bytes": f.size,
                }
                for f in written
            ],
        }
        body = _manifest_bytes(manifest)
        await self._files.put(manifest_key, body, "application/json")
        await self._store.published(run.id, self._clock(), rows, len(written), manifest_key)
        await self._files.delete_prefix(f"{STAGING}/{run.id}/")

    async def compact(self) -> dict[str, int]:
        """Removes erased people's rows from every published file (their pseudonyms are in
        the forget list), rewriting the files and their manifests; then forgets them."""
        forgotten = set(await self._store.forgotten())
        removed = {"files": 0, "rows": 0}
        if not forgotten:
            return removed
        # Every file in the datasets' folders, listed in a manifest or not (what readers see).
        rewritten_files: dict[str, tuple[int, str, int]] = {}
        for dataset in DATASETS:
            for key in await self._files.list(f"{ROOT}/{dataset.name}/"):
                if not key.endswith(".parquet"):
                    continue
                data = await _read(self._files, key)
                rewritten = await anyio.to_thread.run_sync(without, data, forgotten)
                if rewritten is None:
                    continue
                content, before, after = rewritten
                stored = await self._files.put(key, content)
                rewritten_files[key] = (after, stored.sha256, stored.size)
                removed["files"] += 1
                removed["rows"] += before - after
        for manifest_key in await self._files.list(f"{MANIFESTS}/"):
            manifest = json.loads(await _read(self._files, manifest_key))
            entries = [e for e in manifest["files"] if e["key"] in rewritten_files]
            for entry in entries:
                after, sha256, size = rewritten_files[entry["key"]]
                entry.update(rows=after, sha256=sha256, bytes=size)
            if entries:
                manifest["rows"] = sum(e["rows"] for e in manifest["files"])
                body = _manifest_bytes(manifest)
                await self._files.put(manifest_key, body, "application/json")
        await self._store.forget_done(sorted(forgotten))
        log.info("growth.compacted", extra=removed)
        return removed


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, indent=2, sort_keys=True).encode()


async def _read(files: FileStore, key: str) -> bytes:
    return b"".join([chunk async for chunk in files.read(key)])


def _runs_of(values: Any) -> list[tuple[str, int, int]]:
    """Consecutive equal values of an Arrow array: (value as text, start, length)."""
    encoded = pc.run_end_encode(values)
    ends = encoded.run_ends.to_pylist()
    found: list[tuple[str, int, int]] = []
    start = 0
    for end, value in zip(ends, encoded.values.to_pylist(), strict=True):
        text = value.isoformat() if isinstance(value, date) else str(value)
        found.append((text, start, end - start))
        start = end
    return found
