"""The FastAPI application, built from what the composition root hands it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from api import health
from api.deps import BEARER_SCHEME, KnownUsers
from api.errors import install_error_handlers
from api.internal import routes as internal
from api.middleware import EdgeMiddleware
from api.openapi import serve_newest_spec
from api.problems import PROBLEM_RESPONSES
from api.resources.router import AREAS
from api.services import ApiServices
from api.versioning import mount_versions
from api.versions import CHANGES, VERSIONS

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


@asynccontextmanager
async def _no_lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


def create_app(services: ApiServices, *, lifespan: Lifespan = _no_lifespan) -> FastAPI:
    docs = services.config.expose_docs
    app = FastAPI(
        title="Focus API",
        version="1",
        summary="The mobile API of the Focus app.",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.services = services
    app.state.known_users = KnownUsers()
    install_error_handlers(app, services.unavailable)
    app.include_router(health.router)
    app.include_router(internal.router)
    mount_versions(
        app, AREAS, VERSIONS, CHANGES, responses=PROBLEM_RESPONSES, security=[{BEARER_SCHEME: []}]
    )
    app.add_middleware(EdgeMiddleware, config=services.config)
    serve_newest_spec(app, VERSIONS[-1])
    return app
