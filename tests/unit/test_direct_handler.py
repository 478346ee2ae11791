"""Which routes `direct_handler` takes, and what sends a request back to FastAPI's driver.

Answers themselves are compared with FastAPI's driver's for every route of the app in
tests/property/test_direct_handler.py; here, small apps of one route each.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Query
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.testclient import TestClient

from api.versioning import VersionedRoute


async def caller(request: Request) -> str:
    return request.headers.get("x-caller", "nobody")


async def limit_of(request: Request, limit: int = 10) -> int:
    return limit


class Out(BaseModel):
    caller: str


def route_of(app: FastAPI) -> VersionedRoute:
    [route] = [r for r in app.router.routes if isinstance(r, VersionedRoute)]
    return route


def app_with(endpoint: object, **kwargs: object) -> FastAPI:
    """One route on the app's own router, as `mount_versions` puts the versioned ones."""
    app = FastAPI()
    router = APIRouter(route_class=VersionedRoute, dependency_overrides_provider=app)
    router.add_api_route("/v1/thing/{thing_id}", endpoint, **kwargs)  # type: ignore[arg-type]
    app.router.routes.extend(router.routes)
    return app


async def plain(
    thing_id: int, who: Annotated[str, Depends(caller)], q: Annotated[int, Query(ge=0)] = 0
) -> Response:
    return JSONResponse({"thing": thing_id, "caller": who, "q": q})


def test_a_plain_route_takes_the_direct_handler_and_answers() -> None:
    app = app_with(plain)
    route = route_of(app)
    assert route.app is not route.framework_app
    with TestClient(app) as client:
        ok = client.get("/v1/thing/7?q=2", headers={"x-caller": "ada"})
        assert ok.json() == {"thing": 7, "caller": "ada", "q": 2}
        wrong = client.get("/v1/thing/x?q=-1")
        assert wrong.status_code == 422
        assert [e["loc"] for e in wrong.json()["detail"]] == [["path", "thing_id"], ["query", "q"]]


async def returns_a_model(thing_id: int, who: Annotated[str, Depends(caller)]) -> Out:
    return Out(caller=who)


async def dependency_with_parameters(
    thing_id: int, limit: Annotated[int, Depends(limit_of)]
) -> Response:
    return JSONResponse({"limit": limit})


async def with_background(thing_id: int, tasks: BackgroundTasks) -> Response:
    return JSONResponse({})


def test_other_shapes_keep_fastapis_driver() -> None:
    for endpoint in (returns_a_model, dependency_with_parameters, with_background):
        route = route_of(app_with(endpoint))
        assert route.app is route.framework_app, endpoint.__name__
    twice = route_of(app_with(plain, dependencies=[Depends(caller)]))
    assert twice.app is twice.framework_app  # FastAPI calls a repeated dependency once


def test_dependency_overrides_send_requests_to_fastapis_driver() -> None:
    app = app_with(plain)

    async def stand_in() -> str:
        return "stand-in"

    assert route_of(app).app is not route_of(app).framework_app
    with TestClient(app) as client:
        app.dependency_overrides[caller] = stand_in
        assert client.get("/v1/thing/1").json()["caller"] == "stand-in"
        app.dependency_overrides.clear()
        assert client.get("/v1/thing/1").json()["caller"] == "nobody"
