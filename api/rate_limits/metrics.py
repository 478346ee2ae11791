"""Rate limits' Prometheus metrics, on the process's default registry (ADR 0010)."""

from __future__ import annotations

from prometheus_client import Counter

REFUSED = Counter(
    "focus_rate_limit_refused_total",
    "Requests answered 429, by whose budget ran out (ip, user, anonymous) and kind (read, write).",
    ["scope", "kind"],
)
STORAGE_ERRORS = Counter(
    "focus_rate_limit_storage_errors_total",
    "Limit checks the shared store (Redis) could not answer; they were counted in this"
    " process's memory instead (fail open to a per-instance limit).",
)
