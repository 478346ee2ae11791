"""API versions by path (`/v1`, `/v2`), with routes written once.

The routes in `api/resources/` always speak the newest version. An older version is the newest
one minus the `VersionChange`s introduced after it: routes added later are left out, and a
changed route gets the old request and response shapes, converted at the edge. Routes no
change mentions are mounted as they are, at no cost per request. See docs/adr/0003.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from api.direct_handler import direct_handler

Json = dict[str, Any]


class VersionedRoute(APIRoute):
    """An API route that turns a path away by its literal text before anything else.

    A request is matched against the app's routes in turn, and a FastAPI route's own match
    (its route context, then its regular expression) costs several times this check: with ~20
    versioned routes in front of a read's own, the check saves about 6 % of the read's CPU
    (bench/README.md, "Route order" and "A read's CPU, second pass"). A route's regular
    expression is anchored at both ends: a route without parameters matches its path exactly,
    and one with parameters only a path that begins with the text before its first `{` and
    ends with the text after its last `}`. Versioned routes sit on the app's own router with
    their whole path (`mount_versions`); under a `root_path` the full match decides, as before.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        head, brace, _ = self.path_format.partition("{")
        self.literal_prefix = head
        self.literal_suffix = self.path_format.rpartition("}")[2] if brace else ""
        self.exact_path = None if brace else self.path_format
        self.framework_app = self.app
        """FastAPI's own handler; `app` is `direct_handler`'s where the route's shape allows."""
        self.app = direct_handler(self, self.framework_app) or self.framework_app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if not scope.get("root_path"):
            path: str = scope["path"]
            if self.exact_path is not None:
                if path != self.exact_path:
                    return Match.NONE, {}
            elif not (path.startswith(self.literal_prefix) and path.endswith(self.literal_suffix)):
                return Match.NONE, {}
        return super().matches(scope)


@dataclass(frozen=True)
class ResponseChange:
    """How a route's success body looked before: `old_model` (for the spec) and a converter."""

    old_model: Any
    to_old: Callable[[Any], Any]


@dataclass(frozen=True)
class RequestChange:
    """How a route's body looked before: the parameter, `old_model`, and a converter to the new."""

    body_param: str
    old_model: type[BaseModel]
    to_new: Callable[[Json], Json]


@dataclass(frozen=True)
class VersionChange:
    """Introduced in `version`: clients of older versions keep the behaviour from before it."""

    version: str
    description: str
    added_routes: frozenset[str] = frozenset()
    responses: Mapping[str, ResponseChange] = field(default_factory=dict)
    requests: Mapping[str, RequestChange] = field(default_factory=dict)


def versioned_routers(
    areas: Sequence[APIRouter],
    versions: Sequence[str],
    changes: Sequence[VersionChange],
    *,
    responses: Mapping[int | str, dict[str, Any]] | None = None,
    security: Sequence[Mapping[str, list[str]]] = (),
) -> list[APIRouter]:
    """One router per version (oldest first), each at `/<version>`, from the areas' routes.

    `responses` documents what every versioned operation may answer besides its own, and
    `security` the credentials it needs (documented only: the dependencies check them).
    """
    order = {version: n for n, version in enumerate(versions)}
    unknown = [c.version for c in changes if c.version not in order]
    if unknown:
        raise ValueError(f"changes name versions that are not served: {unknown}")
    routers = []
    for version in versions:
        later = sorted(
            (c for c in changes if order[c.version] > order[version]),
            key=lambda c: order[c.version],
        )
        router = APIRouter(
            prefix=f"/{version}",
            responses=dict(responses or {}),
            # Operation ids are the route names (`get_me`): generated clients are named after them.
            generate_unique_id_function=lambda route: route.name,
            route_class=VersionedRoute,
        )
        for area in areas:
            _add_routes(router, area, later, security)
        routers.append(router)
    return routers


def mount_versions(
    app: FastAPI,
    areas: Sequence[APIRouter],
    versions: Sequence[str],
    changes: Sequence[VersionChange],
    *,
    responses: Mapping[int | str, dict[str, Any]] | None = None,
    security: Sequence[Mapping[str, list[str]]] = (),
    match_first: Sequence[str] = (),
) -> None:
    """Serve every version; `app.state.version_routers` keeps them for the per-version specs.
    The routes named in `match_first` (the apps' busiest) are matched first, in every version."""
    routers = versioned_routers(areas, versions, changes, responses=responses, security=security)
    app.state.version_routers = dict(zip(versions, routers, strict=True))
    # In front of every other route, FastAPI's own docs routes included: no path is in two
    # groups, so the order changes no answer, and the apps' requests are matched first.
    routes = [route for router in routers for route in router.routes]
    app.router.routes[0:0] = busiest_first(routes, match_first)


def busiest_first(routes: Sequence[BaseRoute], match_first: Sequence[str]) -> list[BaseRoute]:
    """`routes` with the paths of the routes named in `match_first` first, in its order.

    A request is matched against the routes in turn, at about 0.006 M instructions for each
    route it passes (a read 2.55 M in all; bench/README.md, "Route order, again"). No path
    matches two versioned templates (tests/property/test_route_matching.py), so only routes
    of one template could answer the same request. The sort is stable, so those keep their
    order, and a 405's `Allow` (taken from the first route of the path) stays the same.
    """
    rank = {name: n for n, name in enumerate(match_first)}
    path_rank: dict[str, int] = {}
    for route in routes:
        name, path = getattr(route, "name", ""), getattr(route, "path", "")
        path_rank[path] = min(path_rank.get(path, len(rank)), rank.get(name, len(rank)))
    return sorted(routes, key=lambda route: path_rank[getattr(route, "path", "")])


def _add_routes(
    router: APIRouter,
    area: APIRouter,
    later: list[VersionChange],
    security: Sequence[Mapping[str, list[str]]],
) -> None:
    for route in area.routes:
        assert isinstance(route, APIRoute), "only API routes are versioned"
        if any(route.name in c.added_routes for c in later):
            continue
        # Newest change first for responses (new → old), oldest first for requests (old → new).
        outgoing = [c.responses[route.name] for c in reversed(later) if route.name in c.responses]
        incoming = [c.requests[route.name] for c in later if route.name in c.requests]
        endpoint = route.endpoint
        response_model = route.response_model
        if outgoing or incoming:
            endpoint = _adapted(route.endpoint, outgoing, incoming)
            response_model = outgoing[-1].old_model if outgoing else response_model
        router.add_api_route(
            route.path,
            endpoint,
            methods=sorted(route.methods or ()),
            response_model=response_model,
            status_code=route.status_code,
            responses=route.responses,
            tags=route.tags,
            dependencies=route.dependencies,
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            deprecated=route.deprecated,
            name=route.name,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            openapi_extra={"security": [dict(s) for s in security], **(route.openapi_extra or {})}
            if security
            else route.openapi_extra,
        )


def _adapted(
    endpoint: Callable[..., Awaitable[Any]],
    outgoing: list[ResponseChange],
    incoming: list[RequestChange],
) -> Callable[..., Awaitable[Any]]:
    signature = inspect.signature(endpoint, eval_str=True)
    params = list(signature.parameters.values())
    if incoming:
        name, first = incoming[0].body_param, incoming[0]
        new_model = signature.parameters[name].annotation
        params = [p.replace(annotation=first.old_model) if p.name == name else p for p in params]

    async def adapted(**kwargs: Any) -> Any:
        if incoming:
            body: Json = kwargs[name].model_dump(mode="json", exclude_unset=True)
            for change in incoming:
                body = change.to_new(body)
            kwargs[name] = new_model.model_validate(body)
        result = await endpoint(**kwargs)
        return _to_old(result, outgoing) if outgoing else result

    adapted.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    adapted.__name__ = endpoint.__name__
    adapted.__doc__ = endpoint.__doc__
    return adapted


def _to_old(result: Any, outgoing: list[ResponseChange]) -> Any:
    if not isinstance(result, Response):
        for change in outgoing:
            result = change.to_old(result)
        return result
    if not 200 <= result.status_code < 300 or not result.body:
        return result  # errors are problem+json in every version; 204/304 have no body
    body = orjson.loads(result.body)
    for change in outgoing:
        body = change.to_old(body)
    headers = {k: v for k, v in result.headers.items() if k != "content-length"}
    return Response(orjson.dumps(body), status_code=result.status_code, headers=headers)
