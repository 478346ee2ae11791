"""A clock tests can hold still or move; real time until told otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class TestClock:
    __test__ = False  # not a test class, despite the name

    def __init__(self) -> None:
        self._now: datetime | None = None

    def __call__(self) -> datetime:
        return self._now or datetime.now(UTC)

    def set(self, instant: datetime) -> None:
        self._now = instant.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self.set(self() + delta)

    def reset(self) -> None:
        self._now = None
