"""One OpenAPI document per API version, each with the `Problem` schema its errors refer to."""

from __future__ import annotations

from typing import Any, cast

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi

from api.deps import BEARER_SCHEME
from api.problems import Problem
from api.schemas import TIMEZONE_MARK, timezone_component
from domain.devices.model import INSTALLATION_ID_PATTERN
from domain.idempotency import MAX_KEY_LENGTH

_TAG = {
    "type": "string",
    "description": 'Entity-tags as RFC 9110 lists them: `"v12"`, `"v12", "v13"` or `*`',
    "examples": ['"v12"', "*"],
}
HEADERS: dict[str, dict[str, Any]] = {
    "X-Platform": {
        "description": "`ios` or `android`: with X-App-Version, an app older than the "
        "platform's minimum gets 426",
        "schema": {"type": "string", "examples": ["ios", "android"]},
    },
    "X-App-Version": {
        "description": "The app's version, e.g. 4.2.0; 400 when X-Platform names a platform "
        "with a minimum and this is no version number",
        "schema": {"type": "string", "examples": ["4.2.0"]},
    },
    "X-Installation-Id": {
        "description": "The calling installation: silent pushes this request causes skip it",
        "schema": {"type": "string", "pattern": f"^{INSTALLATION_ID_PATTERN}$"},
    },
    "If-None-Match": {
        "description": "On reads: 304 when one of these tags is current (weak comparison). On "
        "PUT: `*` creates only",
        "schema": _TAG,
    },
    "If-Match": {
        "description": "412 unless one of these tags is current (strong comparison); `*`: the "
        "record must exist",
        "schema": _TAG,
    },
    "Idempotency-Key": {
        "description": "A retry with the same key gets the first answer back (24 h)",
        # Printable latin-1 (what `str.isprintable` keeps of header octets): no controls,
        # no no-break space (0xA0), no soft hyphen (0xAD).
        "schema": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_KEY_LENGTH,
            "pattern": r"^[\x20-\x7E\xA1-\xAC\xAE-\xFF]+$",
        },
    },
}
"""The headers routes read from the request itself, so FastAPI cannot see them."""

EVERY_OPERATION = ("X-Platform", "X-App-Version", "X-Installation-Id")
CONDITIONAL_READS = frozenset(
    {"get_me", "get_device", "get_blocklist", "get_schedule", "get_focus_session"}
    | {"get_usage_report", "get_insight"}
)
"""Operations answering 304 to a current If-None-Match (api.http.resource_response)."""
CONDITIONAL_WRITES = frozenset(
    {"patch_me", "put_device", "delete_device", "patch_blocklist", "delete_blocklist"}
    | {"patch_schedule", "delete_schedule", "end_focus_session", "put_usage_report"}
    | {"dismiss_insight", "accept_suggestion"}
)
"""Operations checking If-Match / If-None-Match (api.http.preconditions)."""
IDEMPOTENT = frozenset(
    {"create_blocklist", "create_schedule", "start_focus_session", "end_focus_session"}
    | {"request_sync", "request_export", "dismiss_insight", "accept_suggestion"}
)
"""Operations replaying a retried Idempotency-Key (api.idempotency.run_idempotent)."""


def _refer_to_timezones(node: Any) -> Any:
    """`node` with every schema marked as a timezone replaced by a reference to the list."""
    if isinstance(node, dict):
        if node.get(TIMEZONE_MARK):
            return {"$ref": "#/components/schemas/Timezone"}
        return {key: _refer_to_timezones(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_refer_to_timezones(item) for item in node]
    return node


def _header(name: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, **HEADERS[name]}


def _document_headers(spec: dict[str, Any]) -> None:
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            op_id = operation["operationId"]
            names = list(EVERY_OPERATION)
            if op_id in CONDITIONAL_READS:
                names.append("If-None-Match")
                operation["responses"].setdefault(
                    "304", {"description": "Not modified: your copy (If-None-Match) is current"}
                )
            if op_id in CONDITIONAL_WRITES:
                names += ["If-Match", "If-None-Match"]
            if op_id in IDEMPOTENT:
                names.append("Idempotency-Key")
            parameters = operation.setdefault("parameters", [])
            parameters += [_header(name) for name in dict.fromkeys(names)]


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
    spec = cast(dict[str, Any], _refer_to_timezones(spec))
    spec["components"]["schemas"]["Timezone"] = timezone_component()
    _document_headers(spec)
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
