"""Abuse protections the composition root hands the API (docs/adr/0013)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from api.app_check import AppCheckPolicy
from api.rate_limits import RateLimiter


@dataclass(frozen=True, slots=True)
class Protections:
    rate_limiter: RateLimiter | None = None
    """Per-IP (edge middleware) and per-user (`api.deps`) limits; None: off."""
    client_ip_proxy_hops: int = 0
    """Proxies of ours that append to X-Forwarded-For (api.rate_limits.middleware)."""
    app_check: AppCheckPolicy | None = None
    """App Check on state-changing routes, per platform; None: off everywhere."""
    recent_sign_in: timedelta = timedelta(minutes=5)
    """How recent a sign-in destructive account actions need (`api.deps.RecentlySignedIn`)."""
