"""A route's handler without FastAPI's per-request driver, for routes of the plain shape.

FastAPI declares a route once: its parameters, their validation, its spec. On every request
its driver then opens two exit stacks, works out the endpoint's context for error messages,
notes telemetry data, walks the dependency tree with a cache and an override lookup for each
node, and makes a throwaway `Response` for dependencies to write headers on: about 0.18 M
instructions, 7 % of a single read (bench/README.md, "The route's driver"). For a route of
the plain shape most of that has nothing to do:

- an `async def` endpoint annotated to return a `Response` (it writes its own bytes);
- no body, no `Response`, `BackgroundTasks`, `SecurityScopes` or WebSocket parameter;
- dependencies (`Depends`) that are `async def f(request)`: no parameters of their own, no
  dependencies, no `yield`, no concurrency limit, each named once.

For those routes `direct_handler` calls the dependencies in order, validates the path,
query, header and cookie parameters with FastAPI's own `request_params_to_args`, raises
FastAPI's `RequestValidationError` with its errors, and calls the endpoint: the same answer,
error or not (`tests/property/test_direct_handler.py` compares every such route's answers
with FastAPI's driver's, valid and invalid input alike). A request FastAPI's telemetry
observes (a trace kept), or any request while dependency overrides are set, goes to FastAPI's
driver. Any other route keeps FastAPI's driver. See docs/adr/0027.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.telemetry import get_telemetry_data
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import request_response
from starlette.types import ASGIApp, Receive, Scope, Send

Dependency = tuple[str | None, Callable[[Request], Awaitable[Any]]]


def _returns_response(call: Callable[..., Any]) -> bool:
    annotation = inspect.signature(call, eval_str=True).return_annotation
    return inspect.isclass(annotation) and issubclass(annotation, Response)


def _special_parameters(dependant: Dependant) -> bool:
    """Whether a parameter is filled from more than the request's path, query, headers and
    cookies: a body, a WebSocket or connection, the response, background tasks, scopes."""
    return bool(
        dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    )


def _plain_dependencies(dependant: Dependant) -> list[Dependency] | None:
    """Each dependency as (name, call), or None if one is not `async def f(request)`."""
    found: list[Dependency] = []
    for sub in dependant.dependencies:
        call = sub.call
        if (
            call is None
            or not inspect.iscoroutinefunction(call)
            or sub.request_param_name is None
            or sub.dependencies
            or sub.path_params
            or sub.query_params
            or sub.header_params
            or sub.cookie_params
            or _special_parameters(sub)
            or sub.own_oauth_scopes
            or sub.concurrency is not None
            or any(call is seen for _, seen in found)  # FastAPI would call it once
        ):
            return None
        found.append((sub.name, call))
    return found


def direct_handler(route: APIRoute, framework: ASGIApp) -> ASGIApp | None:
    """`route`'s handler without FastAPI's driver, or None if its shape is not plain.
    `framework` is FastAPI's own handler for it, used when telemetry observes the request
    or dependency overrides are set."""
    dependant = route.dependant
    call = dependant.call
    if (
        call is None
        or not inspect.iscoroutinefunction(call)
        or not _returns_response(call)
        or _special_parameters(dependant)
        or getattr(route, "max_body_size", None) is not None
    ):
        return None
    dependencies = _plain_dependencies(dependant)
    if dependencies is None:
        return None
    params = [
        (fields, source)
        for fields, source in (
            (dependant.path_params, "path_params"),
            (dependant.query_params, "query_params"),
            (dependant.header_params, "headers"),
            (dependant.cookie_params, "cookies"),
        )
        if fields
    ]
    request_name = dependant.request_param_name
    overrides = route.dependency_overrides_provider
    endpoint = call

    async def run(request: Request) -> Response:
        values: dict[str, Any] = {}
        for name, dependency in dependencies:
            solved = await dependency(request)
            if name is not None:
                values[name] = solved
        errors: list[Any] = []
        for fields, source in params:
            found, wrong = request_params_to_args(fields, getattr(request, source))
            values.update(found)
            errors += wrong
        if errors:
            raise RequestValidationError(errors)
        if request_name is not None:
            values[request_name] = request
        response = await endpoint(**values)
        if not isinstance(response, Response):
            raise TypeError(f"{route.name} is declared to return a Response")
        return response

    direct = request_response(run)

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if get_telemetry_data() is not None or getattr(overrides, "dependency_overrides", None):
            await framework(scope, receive, send)
        else:
            await direct(scope, receive, send)

    return handle
