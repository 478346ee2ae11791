"""What growth exports need from the outside: a consistent snapshot of the source rows of each
dataset in a window of transaction ids, and where runs and the forget list are kept."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.growth.contract import Dataset


@dataclass(frozen=True, slots=True)
class Window:
    """Rows written by transactions with `lower <= xid < upper` (ADR 0020)."""

    lower: int
    upper: int

    @property
    def empty(self) -> bool:
        return self.lower >= self.upper


Columns = Mapping[str, Sequence[Any]]
"""A batch of rows by column: exactly the contract's columns of the dataset."""


class GrowthSnapshot(Protocol):
    upper: int
    """Every transaction below it had finished when the snapshot was taken."""

    def batches(self, dataset: Dataset, window: Window, size: int) -> AsyncGenerator[Columns]:
        """The window's rows of people who allow analytics and are not erased, ordered by the
        partition column then by person and record (the same order on every run)."""
        ...


@dataclass(frozen=True, slots=True)
class Run:
    id: UUID
    dataset: str
    contract_version: int
    window: Window
    state: str
    started_at: datetime
    published_at: datetime | None = None
    rows: int | None = None
    files: int | None = None
    manifest: str | None = None


class GrowthStore(Protocol):
    def snapshot(self) -> AbstractAsyncContextManager[GrowthSnapshot]:
        """A read-only snapshot in which every person who allows analytics has a pseudonym
        secret (made, and committed, before it is taken)."""
        ...

    async def watermark(self, dataset: str) -> int:
        """The upper bound of the dataset's last published run; 0 before the first."""
        ...

    async def writing(self, dataset: str) -> Run | None:
        """The dataset's run that started and did not publish (to resume)."""
        ...

    async def start(self, run: Run) -> None: ...

    async def published(
        self, run_id: UUID, at: datetime, rows: int, files: int, manifest: str
    ) -> None: ...

    async def runs(self, dataset: str, limit: int) -> Sequence[Run]:
        """The dataset's latest runs, newest first."""
        ...

    async def forgotten(self) -> Sequence[str]:
        """Pseudonyms of erased people whose rows compaction still has to remove."""
        ...

    async def forget_done(self, pseudonyms: Sequence[str]) -> None: ...
