"""The in-process path waits as Pub/Sub's retry policy does before delivering an event again."""

from __future__ import annotations

from datetime import timedelta

from events.redelivery import Backoff


def test_redeliveries_wait_ten_seconds_then_twice_as_long_up_to_ten_minutes() -> None:
    waits = [Backoff().delay(attempt).total_seconds() for attempt in range(2, 11)]

    assert waits == [10, 20, 40, 80, 160, 320, 600, 600, 600]


def test_a_very_late_attempt_still_waits_ten_minutes() -> None:
    assert Backoff().delay(10_000) == timedelta(minutes=10)
