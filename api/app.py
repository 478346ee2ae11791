"""The FastAPI application, built from what the composition root hands it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from api import health
from api.deps import KnownUsers
from api.errors import install_error_handlers
from api.middleware import EdgeMiddleware
from api.services import ApiServices
from api.v1.router import router as v1

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
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(v1)
    app.add_middleware(EdgeMiddleware, config=services.config)
    return app
