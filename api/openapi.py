"""One OpenAPI document per API version, each with the `Problem` schema its errors refer to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi

from api.deps import BEARER_SCHEME
from api.problems import Problem


def version_document(app: FastAPI, version: str) -> dict[str, Any]:
    """The spec of one version: its own routes only, so operation ids stay unique."""
    router: APIRouter = app.state.version_routers[version]
    spec = get_openapi(
        title=app.title,
        version=version,
        summary=app.summary,
        description=app.description,
        routes=router.routes,
        separate_input_output_schemas=app.separate_input_output_schemas,
    )
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    spec["components"]["securitySchemes"] = {
        BEARER_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A Firebase ID token of the app user",
        }
    }
    return spec


def serve_newest_spec(app: FastAPI, newest: str) -> None:
    """`/openapi.json` (and `/docs`) show the newest version; files hold every version."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = version_document(app, newest)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
