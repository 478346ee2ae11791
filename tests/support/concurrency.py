"""Requests fired at the same instant, as two phones of one user (or a retrying app) send them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def at_once(calls: Sequence[Callable[[], T]], *, timeout: float = 30) -> list[T]:
    """Runs every call in its own thread, all released together by a barrier; results in order.

    The calls meet in the server at its first await, so each reads before any of them commits:
    the interleaving a lost update needs.
    """
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        barrier.wait(timeout)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls, timeout=timeout))


def statuses(responses: Iterable[Any]) -> list[int]:
    """The status codes, sorted: what a burst answered, whatever the order."""
    return sorted(r.status_code for r in responses)


def assert_versions_unique(responses: Iterable[Any]) -> None:
    """Every write that succeeded took its own version of the user's change counter."""
    written = [r for r in responses if r.status_code in (200, 201, 202)]
    versions = [r.json()["version"] for r in written if r.content]
    assert len(versions) == len(set(versions)), f"two writes share a version: {versions}"
