"""What the composition root hands the API: adapters behind ports, and the API's config."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from api.config import ApiConfig
from domain.common import Clock
from domain.identity import TokenVerifier
from domain.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class ApiServices:
    config: ApiConfig
    verifier: TokenVerifier
    unit_of_work: Callable[[], UnitOfWork]
    clock: Clock
    check_ready: Callable[[], Awaitable[None]]
    """Raises when a dependency the API needs (the database) is unreachable."""
    unavailable: tuple[type[Exception], ...] = ()
    """Adapter errors that mean "a store is down": answered 503 with Retry-After, not 500."""
