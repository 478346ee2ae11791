"""The per-IP limit, at the edge: before routing, token checks or the database.

Plain ASGI like `api.middleware`; it sits inside `EdgeMiddleware`, so a 429 carries the
request id like every other answer.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.problems import problem_response
from api.rate_limits.limiter import TITLE, RateLimited, RateLimiter, kind_of
from api.rate_limits.limiter import Scope as LimitScope

_LIMITED = ("/v1/", "/v2/")
"""The apps' routes. /healthz, /readyz and /internal/* (Google's own calls) are not limited."""


def client_ip(scope: Scope, proxy_hops: int) -> str:
    """The caller's address.

    `proxy_hops` is how many proxies of ours append to `X-Forwarded-For` (Cloud Run's front
    end, a load balancer): the client is that many entries from the right. Entries further
    left were written by the client and could be anything. 0: the peer of the connection.
    """
    if proxy_hops > 0:
        forwarded = Headers(scope=scope).get("x-forwarded-for", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxy_hops:
            return hops[-proxy_hops]
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class PerIpRateLimit:
    """Added only where limits are on (api/app.py): off, there is no layer to pass through."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, proxy_hops: int = 0) -> None:
        self.app = app
        self.limiter = limiter
        self.proxy_hops = proxy_hops

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(_LIMITED):
            await self.app(scope, receive, send)
            return
        try:
            await self.limiter.check(
                LimitScope.IP, kind_of(scope["method"]), client_ip(scope, self.proxy_hops)
            )
        except RateLimited as refused:
            response = problem_response(
                429,
                refused.code,
                TITLE,
                refused.detail,
                headers={"Retry-After": str(refused.retry_after_seconds)},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
