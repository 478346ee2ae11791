"""The backfill's Firestore pace: 500 operations a second, 50 % more every 5 minutes (500/50/5)."""

from __future__ import annotations

import anyio
import pytest

from migration.backfill.rate import RampingLimiter


class FakeTime:
    """A clock that only moves when the limiter sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limiter(time: FakeTime, max_rate: float | None = None) -> RampingLimiter:
    return RampingLimiter(max_rate=max_rate, clock=time, sleep=time.sleep)


def operations_in(time: FakeTime, pace: RampingLimiter, seconds: float, batch: int) -> int:
    """How many operations go through in `seconds` of the fake clock, `batch` at a time."""

    async def run() -> int:
        end, done = time.now + seconds, 0
        while True:
            await pace.ready()
            if time.now >= end:
                return done
            pace.spent(batch)
            done += batch

    return anyio.run(run)


def test_it_starts_at_500_operations_a_second() -> None:
    time = FakeTime()
    pace = limiter(time)

    done = operations_in(time, pace, 60, batch=100)

    assert pace.rate() == 500
    assert 60 * 500 <= done <= 60 * 500 + 100  # one batch goes before its wait


def test_it_grows_by_half_every_five_minutes_and_no_faster() -> None:
    time = FakeTime()
    pace = limiter(time)
    rates = []
    for _ in range(4):
        operations_in(time, pace, 299, batch=50)
        rates.append(pace.rate())
        operations_in(time, pace, 1, batch=50)

    assert rates == [500, 750, 1125, 1687.5]
    assert pace.rate() == 500 * 1.5**4


def test_max_rate_caps_the_ramp_and_the_start() -> None:
    time = FakeTime()
    capped = limiter(time, max_rate=200)

    done = operations_in(time, capped, 1_800, batch=20)

    assert capped.rate() == 200
    assert done <= 1_800 * 200 + 20


def test_a_short_page_is_charged_for_what_it_read() -> None:
    time = FakeTime()
    pace = limiter(time)

    async def two_pages() -> None:
        await pace.ready()
        pace.spent(50)  # a page of 500 came back with 50 documents
        await pace.ready()

    anyio.run(two_pages)

    assert time.slept == [pytest.approx(0.1)]


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RampingLimiter(max_rate=0)


def test_the_command_pages_by_the_backfill_s_default_batch() -> None:
    import inspect

    from migration.backfill.runner import DEFAULT_BATCH
    from migration.cli.backfill import backfill_command

    assert inspect.signature(backfill_command).parameters["batch"].default == DEFAULT_BATCH
