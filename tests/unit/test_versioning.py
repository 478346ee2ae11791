"""Adding a version by describing what changed: older clients keep what they had."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel
from starlette.responses import Response
from starlette.testclient import TestClient

from api.http import json_response, location_of
from api.openapi import version_document
from api.versioning import (
    RequestChange,
    ResponseChange,
    VersionChange,
    mount_versions,
    versioned_routers,
)


class ThingOut(BaseModel):  # newest shape
    id: int
    display_name: str
    color: str


class ThingIn(BaseModel):
    display_name: str
    color: str = "blue"


class ThingOutV1(BaseModel):  # what v1 clients were promised
    id: int
    name: str


class ThingInV1(BaseModel):
    name: str


things = APIRouter(prefix="/things")


@things.get("/{thing_id}", response_model=ThingOut)
async def get_thing(thing_id: int) -> Response:
    body = ThingOut(id=thing_id, display_name="Reading", color="red")
    return json_response(body, headers={"ETag": '"v7"'})


@things.post("", response_model=ThingOut, status_code=201)
async def create_thing(request: Request, body: ThingIn) -> Response:
    created = ThingOut(id=2, **body.model_dump())
    return json_response(created, status=201, headers={"Location": location_of(request, 2)})


@things.get("/{thing_id}/history")
async def thing_history(thing_id: int) -> list[str]:
    return ["created"]


def _v2_to_v1(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": body["id"], "name": body["display_name"]}


V2 = VersionChange(
    "v2",
    "Things: name became display_name, gained a color and a history",
    added_routes=frozenset({"thing_history"}),
    responses={
        "get_thing": ResponseChange(ThingOutV1, _v2_to_v1),
        "create_thing": ResponseChange(ThingOutV1, _v2_to_v1),
    },
    requests={
        "create_thing": RequestChange("body", ThingInV1, lambda b: {"display_name": b["name"]})
    },
)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    app = FastAPI()
    mount_versions(app, [things], ["v1", "v2"], [V2])
    return app


@pytest.fixture(scope="module")
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


def test_the_newest_version_is_served_as_written(client: TestClient) -> None:
    response = client.get("/v2/things/1")

    assert response.json() == {"id": 1, "display_name": "Reading", "color": "red"}


def test_an_older_version_gets_its_old_shape_with_the_same_headers(client: TestClient) -> None:
    response = client.get("/v1/things/1")

    assert response.json() == {"id": 1, "name": "Reading"}
    assert response.headers["ETag"] == '"v7"'


def test_an_older_client_sends_its_old_body(client: TestClient) -> None:
    response = client.post("/v1/things", json={"name": "Walk"})

    assert response.status_code == 201
    assert response.json() == {"id": 2, "name": "Walk"}
    assert response.headers["Location"] == "/v1/things/2"


def test_an_older_client_is_held_to_its_old_body(client: TestClient) -> None:
    assert client.post("/v1/things", json={"display_name": "Walk"}).status_code == 422
    newest = client.post("/v2/things", json={"display_name": "Walk"})
    assert newest.status_code == 201
    assert newest.headers["Location"] == "/v2/things/2"


def test_routes_added_later_do_not_exist_in_older_versions(client: TestClient) -> None:
    assert client.get("/v2/things/1/history").json() == ["created"]
    assert client.get("/v1/things/1/history").status_code == 404


def test_each_version_documents_its_own_shapes(app: FastAPI) -> None:
    v1 = version_document(app, "v1")
    v2 = version_document(app, "v2")

    def body(spec: dict[str, Any], path: str) -> str:
        ok = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        return str(ok["schema"]["$ref"])

    assert body(v1, "/v1/things/{thing_id}").endswith("/ThingOutV1")
    assert body(v2, "/v2/things/{thing_id}").endswith("/ThingOut")
    assert "/v1/things/{thing_id}/history" not in v1["paths"]
    assert "/v2/things/{thing_id}/history" in v2["paths"]
    assert v1["paths"]["/v1/things/{thing_id}"]["get"]["operationId"] == "get_thing"


def test_a_change_for_a_version_not_served_is_refused() -> None:
    with pytest.raises(ValueError, match="not served"):
        versioned_routers([things], ["v1"], [V2])
