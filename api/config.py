"""What the API layer is told by the composition root (it reads no settings itself)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Deprecation:
    """A route prefix that is deprecated: announced with RFC 9745 / RFC 8594 headers."""

    path_prefix: str
    deprecated_at: datetime
    sunset_at: datetime | None = None
    link: str | None = None
    method: str | None = None  # None: every method


@dataclass(frozen=True, slots=True)
class ApiConfig:
    max_body_bytes: int = 256 * 1024
    min_app_versions: dict[str, str] = field(default_factory=dict)
    """Per platform (`ios`, `android`): older apps get 426 with an upgrade URL."""
    upgrade_urls: dict[str, str] = field(default_factory=dict)
    deprecations: tuple[Deprecation, ...] = ()
    expose_docs: bool = False
    """Serve `/docs` and `/openapi.json` (the composition root turns it on outside production)."""
