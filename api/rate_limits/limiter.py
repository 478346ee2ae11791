"""Counting requests against limits, in the store every instance shares.

A well-kept library does the counting (`limits`: sliding window counters, atomic in Redis by
Lua script); this module chooses the budgets, makes the key and turns a refusal into
`RateLimited` with the seconds until a request would be allowed again.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from enum import StrEnum

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from api.rate_limits import metrics
from domain.errors import DomainError

log = logging.getLogger("api.rate_limits")

MEMORY = "async+memory://"
STORE_TIMEOUT_SECONDS = 0.25
"""Longest a request waits on Redis (connect or answer) before counting in memory instead."""
RETRY_STORE_AFTER_SECONDS = 5.0
"""After a store failure, requests count in memory for this long before Redis is tried again:
an unreachable Redis must not cost every request a timeout."""


class Scope(StrEnum):
    IP = "ip"
    USER = "user"
    ANONYMOUS = "anonymous"


class Kind(StrEnum):
    READ = "read"
    WRITE = "write"


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def kind_of(method: str) -> Kind:
    return Kind.READ if method in SAFE_METHODS else Kind.WRITE


def limits_of(text: str) -> tuple[RateLimitItem, ...]:
    """`"20/second;300/minute"` → both limits: a request must fit every one."""
    return tuple(parse_many(text))


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """Budgets, in the `limits` notation (`"300/minute"`, `"10/second;300/minute"`)."""

    per_ip: str = "1200/minute"
    reads: str = "300/minute"
    writes: str = "120/minute"
    anonymous_reads: str = "120/minute"
    anonymous_writes: str = "30/minute"


@dataclass
class RateLimited(DomainError):
    """A budget ran out: answered 429 with `Retry-After: retry_after_seconds`."""

    code: str = "rate_limited"
    retry_after_seconds: int = 1


TITLE = "Too many requests"


def _budgets(policy: RateLimitPolicy) -> dict[tuple[Scope, Kind], tuple[RateLimitItem, ...]]:
    """Which limits a request of each scope and kind must fit (one per-IP budget for both)."""
    per_ip = limits_of(policy.per_ip)
    return {
        (Scope.IP, Kind.READ): per_ip,
        (Scope.IP, Kind.WRITE): per_ip,
        (Scope.USER, Kind.READ): limits_of(policy.reads),
        (Scope.USER, Kind.WRITE): limits_of(policy.writes),
        (Scope.ANONYMOUS, Kind.READ): limits_of(policy.anonymous_reads),
        (Scope.ANONYMOUS, Kind.WRITE): limits_of(policy.anonymous_writes),
    }


class RateLimiter:
    """Counts requests per IP and per user in `storage_uri` (a `limits` storage URI).

    When the store cannot answer, the request is counted in this process's memory instead:
    fail open, but to a per-instance limit rather than to none (docs/adr/0013).
    """

    def __init__(self, policy: RateLimitPolicy, storage_uri: str = MEMORY) -> None:
        self._budgets = _budgets(policy)
        self._shared = SlidingWindowCounterRateLimiter(_storage(storage_uri))
        self._local = (
            self._shared
            if storage_uri.startswith(MEMORY)
            else SlidingWindowCounterRateLimiter(MemoryStorage())
        )
        self._shared_down_until = 0.0

    async def aclose(self) -> None:
        """Closes the connections to Redis (none for memory)."""
        storage = self._shared.storage
        client = getattr(getattr(storage, "bridge", None), "storage", None)
        pool = getattr(client, "connection_pool", None)
        if pool is not None:
            pool.disconnect()
            await asyncio.sleep(0)  # the transports close on the next turn of the loop

    async def check(self, scope: Scope, kind: Kind, who: str) -> None:
        """Counts one request of `who`; raises `RateLimited` when a budget has run out.

        Addresses are counted in this process's memory: Cloud Armor counts them across
        instances at the edge, and a Redis round trip per address cost a sixth of a hot read
        (bench/README.md). Users are counted in the shared store.
        """
        key = (scope.value, kind.value if scope is not Scope.IP else "all", who)
        local = scope is Scope.IP
        for item in self._budgets[scope, kind]:
            if not await self._hit(item, key, local=local):
                metrics.REFUSED.labels(scope=scope.value, kind=kind.value).inc()
                raise RateLimited(
                    detail=f"at most {item}; try again later",
                    retry_after_seconds=await self._retry_after(item, key, local=local),
                )

    async def _hit(self, item: RateLimitItem, key: tuple[str, ...], *, local: bool) -> bool:
        if local:
            return await self._local.hit(item, *key)
        if time.monotonic() >= self._shared_down_until:
            try:
                return await self._shared.hit(item, *key)
            except StorageError as error:
                self._shared_down_until = time.monotonic() + RETRY_STORE_AFTER_SECONDS
                log.warning("api.rate_limits.storage_unavailable", extra={"error": repr(error)})
        metrics.STORAGE_ERRORS.inc()
        return await self._local.hit(item, *key)

    async def _retry_after(self, item: RateLimitItem, key: tuple[str, ...], *, local: bool) -> int:
        shared_up = not local and time.monotonic() >= self._shared_down_until
        limiter = self._shared if shared_up else self._local
        try:
            stats = await limiter.get_window_stats(item, *key)
        except StorageError:
            return item.get_expiry()
        return max(1, math.ceil(stats.reset_time - time.time()))


def _storage(uri: str) -> Storage:
    options: dict[str, float | str | bool] = {}
    if not uri.startswith(MEMORY):
        # coredis's options: a black-holed Redis must not hold the request.
        options = {
            "connect_timeout": STORE_TIMEOUT_SECONDS,
            "stream_timeout": STORE_TIMEOUT_SECONDS,
        }
    storage = storage_from_string(uri, wrap_exceptions=True, **options)
    if not isinstance(storage, Storage):
        raise ValueError(
            f"{uri!r} is not an asynchronous storage (async+redis://, async+memory://)"
        )
    return storage
