"""How long the API takes to answer, as a Prometheus histogram: what the latency SLO reads.

`focus_http_request_duration_seconds{method, route, status_class}`. `route` is the matched
route's template (`/v1/focus-sessions/{session_id}`), never the raw path: ids would make a
series per record. A path no route matches is one value, `unmatched`; a request the rate
limiter refused (429) is `refused`, found without matching it against every route (a flood of
refusals must stay cheap to answer). The SLO
(terraform/slo.tf) counts GETs of `/v1` and `/v2` routes answered within 0.3 s, so 0.3 is a
bucket boundary.

Plain ASGI (not BaseHTTPMiddleware), outermost of the app's middleware: the clock runs from
the moment the request reaches the app until the last body chunk is handed to the server, so
a streamed response is timed to its end, and answers the edge or the rate limiter give before
routing are timed too.
"""

from __future__ import annotations

from functools import lru_cache
from time import perf_counter
from typing import Any

from prometheus_client import Histogram
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"
REFUSED = "refused"
OTHER_METHOD = "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUEST_DURATION = Histogram(
    "focus_http_request_duration_seconds",
    "Time from a request reaching the app to the end of its response, by method, route"
    " template and status class (2xx ... 5xx).",
    ["method", "route", "status_class"],
    # Fine below the 0.3 s objective, coarse above it; 60 s is Cloud Run's request timeout.
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5, 5, 10, 30, 60),
)


class RequestMetrics:
    """Observes every HTTP request's duration in REQUEST_DURATION."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = perf_counter()
        # What the client gets when the app raises before answering: the server error
        # handler outside this middleware turns it into a 500.
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            method = scope["method"] if scope["method"] in METHODS else OTHER_METHOD
            _series(method, route_template(scope, status), status // 100).observe(
                perf_counter() - began
            )


@lru_cache(maxsize=4096)
def _series(method: str, route: str, status_class: int) -> Any:
    """The histogram's series for these labels. Methods, templates and status classes are
    few, so this holds every series in use; `labels()` itself (a lock, a check of every
    value) cost a read about 1 % of its CPU."""
    return REQUEST_DURATION.labels(method, route, f"{status_class}xx")


def route_template(scope: Scope, status: int) -> str:
    """The template of the route that answered, or would have answered a request refused
    before routing (413, 426); `unmatched` when no route matches the path."""
    route = scope.get("route")
    if route is None and status == 429:  # refused before routing: not worth a route scan
        return REFUSED
    if route is None and status != 404:  # a 404 without a route: routing found none
        route = _matching_route(scope)
    if route is None:
        return UNMATCHED
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) else UNMATCHED


def _matching_route(scope: Scope) -> Any:
    router = getattr(scope.get("app"), "router", None)
    for route in getattr(router, "routes", ()):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
    return None
