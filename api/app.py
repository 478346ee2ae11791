"""The FastAPI application, built from what the composition root hands it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, MutableMapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from starlette.types import Receive, Scope, Send

from api import files, health
from api.console.mount import mount_console
from api.deps import BEARER_SCHEME, KnownUsers
from api.errors import install_error_handlers
from api.internal import routes as internal
from api.middleware import EdgeMiddleware
from api.openapi import serve_newest_spec
from api.problems import PROBLEM_RESPONSES
from api.rate_limits.middleware import PerIpRateLimit
from api.request_metrics import RequestMetrics
from api.resources.router import AREAS, BUSIEST
from api.services import ApiServices
from api.staff import routes as staff
from api.versioning import mount_versions
from api.versions import CHANGES, VERSIONS

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

HEADERS = """\
Headers every app sends:

- `Authorization: Bearer <Firebase ID token>`
- `X-Platform: ios | android` and `X-App-Version: <semver>`: an app older than the minimum
  gets 426 with an upgrade URL.
- `X-Installation-Id: <installation id>` (optional): silent pushes caused by this request
  skip the device that sent it.
- `X-Firebase-AppCheck: <App Check token>` on changes (POST, PUT, PATCH, DELETE): per
  platform it is not checked, counted, or required (403 `app_check_missing` / `_invalid`).
- `Idempotency-Key` on POSTs (retried safely for 24 h), `If-Match: "v<n>"` on PATCH / PUT /
  DELETE to refuse a lost update with 412 (`If-None-Match: *` on PUT: create only).

Limits per user and per address answer 429 with `Retry-After`.

Every answer carries `X-Request-Id`; errors are `application/problem+json` with a stable
`code` and the fields at fault. Rules by area: docs/api-rules.md.
"""


def _telemetry(tracer_provider: Any) -> TelemetryConfig:
    # Spans only: Prometheus counts (api/request_metrics.py), our logs log (and FastAPI's would
    # hold exception messages); no spans per dependency or serialisation (a read's cost).
    return TelemetryConfig(
        tracer_provider=tracer_provider,
        tracing=tracer_provider is not None,
        metrics=False,
        logs=False,
        operation_spans=False,
        auto_configure=False,
        exclude=_health_check,  # requests whose trace is not kept never get here (`_Api`)
    )


def _health_check(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in ("/healthz", "/readyz")


class _Api(FastAPI):
    """FastAPI, but a request `untraced` says no span is wanted for bypasses FastAPI's
    telemetry layer altogether.

    Behind Cloud Run every request carries a `traceparent`, and all but the sampled share
    are not kept. FastAPI's `exclude` already makes no span for them, but only after checking
    its providers and walking the whole middleware stack on every request: about 2 % of an
    untraced read's CPU (bench/README.md, "Tracing's floor"). A scope that already holds
    `fastapi.telemetry` is one FastAPI treats as observed (it is how a mounted FastAPI app
    skips its own), so marking it None first sends the request straight to the app.
    `tests/integration/test_request_spans.py` fails if a FastAPI release stops honouring that.
    """

    untraced: Callable[[MutableMapping[str, Any]], bool] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        untraced = self.untraced
        if untraced is not None and scope["type"] == "http" and untraced(scope):
            scope["fastapi.telemetry"] = None
        await super().__call__(scope, receive, send)


@asynccontextmanager
async def _no_lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


def create_app(
    services: ApiServices,
    *,
    lifespan: Lifespan = _no_lifespan,
    tracer_provider: Any = None,
    untraced: Callable[[MutableMapping[str, Any]], bool] | None = None,
) -> FastAPI:
    """`tracer_provider` (OpenTelemetry's): each request a server span named by its route
    template (FastAPI's own telemetry), but for those `untraced` says; None: no telemetry."""
    docs = services.config.expose_docs
    app = _Api(
        telemetry=_telemetry(tracer_provider),
        title="Focus API",
        version="1",
        summary="The mobile API of the Focus app.",
        description=HEADERS,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    if tracer_provider is not None:
        app.untraced = untraced
    app.state.services = services
    app.state.known_users = KnownUsers()
    install_error_handlers(app, services.unavailable)
    # The apps' versioned routes first: a request is matched against the routes in order, and
    # FastAPI tries every route of an included router, so the 36 health, internal, staff and
    # console routes in front of them were a fifth of a mobile read's CPU (bench/README.md,
    # "Route order"). No path is in two groups, so the order changes no answer.
    mount_versions(
        app,
        AREAS,
        VERSIONS,
        CHANGES,
        responses=PROBLEM_RESPONSES,
        security=[{BEARER_SCHEME: []}],
        match_first=BUSIEST,
    )
    app.include_router(health.router)
    app.include_router(internal.router)
    if services.local_files is not None:  # GCS serves its own links
        app.include_router(files.router)
    if services.staff is not None:  # internal, behind IAP: never in the app's spec
        app.include_router(staff.router)
        mount_console(app, services.staff)  # the compliance console, the same identity
    guard = services.protections  # inside the edge: a 429 carries the request id too
    if guard.rate_limiter is not None:
        app.add_middleware(
            PerIpRateLimit, limiter=guard.rate_limiter, proxy_hops=guard.client_ip_proxy_hops
        )
    app.add_middleware(EdgeMiddleware, config=services.config)
    app.add_middleware(RequestMetrics)  # outermost: times everything, refusals included
    serve_newest_spec(app, VERSIONS[-1])
    return app
