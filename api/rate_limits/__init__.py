"""Per-IP and per-user request limits: 429 with `Retry-After`, counted in a shared store.

`limiter.RateLimiter` counts (the `limits` library, sliding window counters, in Redis or in
memory); `middleware.PerIpRateLimit` applies the per-IP limit at the edge and `api.deps`
the per-user limit right after the token is verified. Reasons: docs/adr/0013.
"""

from api.rate_limits.limiter import RateLimited, RateLimiter, RateLimitPolicy

__all__ = ["RateLimitPolicy", "RateLimited", "RateLimiter"]
