"""The FastAPI application, built from what the composition root hands it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api import health
from api.deps import KnownUsers
from api.errors import install_error_handlers
from api.middleware import EdgeMiddleware
from api.problems import Problem
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
        # Generated clients name their methods after these: `get_me`, not `get_me_v1_me_get`.
        generate_unique_id_function=lambda route: route.name,
        separate_input_output_schemas=False,
    )
    app.state.services = services
    app.state.known_users = KnownUsers()
    install_error_handlers(app)
    _document_problems(app)
    app.include_router(health.router)
    app.include_router(v1)
    app.add_middleware(EdgeMiddleware, config=services.config)
    return app


def _document_problems(app: FastAPI) -> None:
    """Publish the `Problem` schema that every documented error response refers to."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = Problem.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            schemas.update(schemas["Problem"].pop("$defs", {}))
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
