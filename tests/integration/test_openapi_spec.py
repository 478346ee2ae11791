"""The committed OpenAPI spec: current, valid, and safe for the app versions already shipped.

`make spec-check` runs optic for breaking changes against openapi/released/v1.json. These tests
need no database; they add what only the app can tell, and the breaking changes optic misses:
optic skips every property whose schema is a union, and pydantic writes each `X | None` field as
`anyOf: [X, {type: null}]`, so removing a nullable response field passes optic (docs/adr/0004).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from app.spec import openapi_document

Spec = dict[str, Any]
Schema = dict[str, Any]

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "openapi" / "v1.json"
RELEASED = ROOT / "openapi" / "released" / "v1.json"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
PUBLIC_V1_OPERATIONS: frozenset[str] = frozenset()
"""operationIds under /v1 that take no bearer token: none so far."""


@pytest.fixture(scope="module")
def spec() -> Spec:
    plain: Spec = json.loads(json.dumps(openapi_document()))  # tuples → lists, as in the file
    return plain


@pytest.fixture(scope="module")
def released() -> Spec:
    loaded: Spec = json.loads(RELEASED.read_text())
    return loaded


def _operations(spec: Spec) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _v1_operations(spec: Spec) -> list[tuple[str, str, dict[str, Any]]]:
    found = [op for op in _operations(spec) if op[0].startswith("/v1/")]
    assert found, "the spec has no /v1 operation"
    return found


def _differences(old: Any, new: Any, at: str = "") -> Iterator[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            here = f"{at}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if key not in old or key not in new:
                yield here
            else:
                yield from _differences(old[key], new[key], here)
    elif old != new:
        yield at or "/"


def test_the_committed_spec_is_the_apps(spec: Spec) -> None:
    committed = json.loads(COMMITTED.read_text()) if COMMITTED.exists() else {}
    stale = sorted(_differences(committed, spec), key=lambda at: not at.startswith("/paths"))
    assert not stale, (
        f"openapi/v1.json is out of date: run `make spec` and commit it. "
        f"It differs at: {', '.join(stale[:8])}{' …' if len(stale) > 8 else ''}"
    )


def test_the_spec_is_valid_openapi(spec: Spec) -> None:
    assert spec["openapi"].startswith("3.1.")
    validate(spec)


def test_the_released_spec_is_valid_openapi(released: Spec) -> None:
    validate(released)


def test_operation_ids_are_unique(spec: Spec) -> None:
    ids = [op.get("operationId") for _, _, op in _operations(spec)]
    assert all(ids), "every operation needs an operationId"
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_operation_ids_are_the_route_names(spec: Spec) -> None:
    """Generated clients name their methods after them: `getMe`, not `getMeV1MeGet`."""
    long = [op["operationId"] for _, _, op in _v1_operations(spec) if "_v1_" in op["operationId"]]
    assert not long, f"FastAPI's path-and-method ids are back (api/app.py): {long}"


def test_every_v1_operation_declares_a_success_response(spec: Spec) -> None:
    missing = [
        f"{method.upper()} {path}"
        for path, method, op in _v1_operations(spec)
        if not any(status.startswith("2") for status in op.get("responses", {}))
    ]
    assert not missing


def test_every_v1_operation_requires_the_bearer_token(spec: Spec) -> None:
    schemes = spec.get("components", {}).get("securitySchemes", {})
    bearer = {
        name
        for name, scheme in schemes.items()
        if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer"
    }
    assert bearer, "no http bearer scheme: declare the token with HTTPBearer (api/deps.py)"
    unsecured = []
    for path, method, op in _v1_operations(spec):
        alternatives = op.get("security", spec.get("security", []))
        # each alternative must name the bearer scheme: an empty `{}` makes the token optional
        required = bool(alternatives) and all(bearer & set(a) for a in alternatives)
        if not required and op["operationId"] not in PUBLIC_V1_OPERATIONS:
            unsecured.append(f"{method.upper()} {path}")
    assert not unsecured, f"operations that do not declare the bearer token: {unsecured}"


def test_v1_errors_are_documented_as_problem_json(spec: Spec) -> None:
    wrong = []
    for path, method, op in _v1_operations(spec):
        errors = {s: r for s, r in op["responses"].items() if s[0] in "45" or s == "default"}
        if not errors:
            wrong.append(f"{method.upper()} {path}: no error response")
        wrong += [
            f"{method.upper()} {path} {status}: {sorted(response.get('content', {}))}"
            for status, response in errors.items()
            if set(response.get("content", {})) != {"application/problem+json"}
        ]
    assert not wrong, (
        f"api/errors.py sends every error as application/problem+json; document these so "
        f"(api.problems.PROBLEM_RESPONSES): {wrong}"
    )


# ---- breaking changes against the released spec, including those under nullable unions ----


def _resolve(spec: Spec, schema: Schema) -> Schema:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _unwrap(spec: Spec, schema: Schema) -> tuple[Schema, bool]:
    """The schema without its `null` alternative, and whether it had one."""
    schema = _resolve(spec, schema)
    variants = schema.get("anyOf") or schema.get("oneOf")
    if variants:
        rest = [v for v in variants if v.get("type") != "null"]
        if len(rest) == 1:
            return _resolve(spec, rest[0]), len(rest) < len(variants)
        return {}, len(rest) < len(variants)  # a real union: optic's union rules judge it
    types = schema.get("type")
    if isinstance(types, list):
        rest = [t for t in types if t != "null"]
        return {**schema, "type": rest[0] if len(rest) == 1 else rest}, "null" in types
    return schema, False


def _schema_breaks(
    old_spec: Spec,
    old: Schema,
    new_spec: Spec,
    new: Schema,
    at: str,
    *,
    request: bool,
    depth: int = 0,
) -> Iterator[str]:
    """What a client built on `old` would trip over in `new`: `request` for what it sends."""
    if depth > 24:  # recursive schemas
        return
    old, old_null = _unwrap(old_spec, old)
    new, new_null = _unwrap(new_spec, new)
    if request and old_null and not new_null:
        yield f"{at}: null is no longer accepted"
    if not request and new_null and not old_null:
        yield f"{at}: may now be null"
    types = old.get("type"), new.get("type")
    if all(isinstance(t, str) for t in types) and types[0] != types[1]:
        yield f"{at}: type {types[0]} became {types[1]}"
        return
    dropped = [v for v in old.get("enum", []) if v not in new.get("enum", old["enum"])]
    if request and dropped:
        yield f"{at}: values no longer accepted: {dropped}"
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for name, old_prop in old_props.items():
        here = f"{at}.{name}"
        if name not in new_props:
            if not request:
                yield f"{here}: removed"
            elif new.get("additionalProperties") is False:
                yield f"{here}: removed, and unknown fields are refused"
            continue
        if request and name in new_required - old_required:
            yield f"{here}: became required"
        if not request and name in old_required - new_required:
            yield f"{here}: no longer always sent"
        yield from _schema_breaks(
            old_spec, old_prop, new_spec, new_props[name], here, request=request, depth=depth + 1
        )
    if request:
        yield from (f"{at}.{name}: new required field" for name in new_required - old_props.keys())
    if "items" in old and "items" in new:
        yield from _schema_breaks(
            old_spec,
            old["items"],
            new_spec,
            new["items"],
            f"{at}[]",
            request=request,
            depth=depth + 1,
        )


def _breaking_changes(old: Spec, new: Spec) -> list[str]:
    found: list[str] = []
    for path, method, old_op in _operations(old):
        where = f"{method.upper()} {path}"
        new_op = new["paths"].get(path, {}).get(method)
        if new_op is None:
            found.append(f"{where}: removed")
            continue
        if old_op.get("operationId") != new_op.get("operationId"):
            found.append(f"{where}: operationId {old_op.get('operationId')} changed")
        new_body = new_op.get("requestBody", {}).get("content", {})
        for media, content in old_op.get("requestBody", {}).get("content", {}).items():
            if media not in new_body:
                found.append(f"{where} request {media}: no longer accepted")
                continue
            found += _schema_breaks(
                old,
                content.get("schema", {}),
                new,
                new_body[media].get("schema", {}),
                f"{where} request body",
                request=True,
            )
        for status, old_response in old_op.get("responses", {}).items():
            new_response = new_op.get("responses", {}).get(status)
            if new_response is None:
                found.append(f"{where} response {status}: removed")
                continue
            for media, content in old_response.get("content", {}).items():
                if media not in new_response.get("content", {}):
                    found.append(f"{where} response {status} {media}: removed")
                    continue
                found += _schema_breaks(
                    old,
                    content.get("schema", {}),
                    new,
                    new_response["content"][media].get("schema", {}),
                    f"{where} response {status} body",
                    request=False,
                )
    return found


def test_no_breaking_change_against_the_released_spec(spec: Spec, released: Spec) -> None:
    found = _breaking_changes(released, spec)
    assert not found, (
        "breaking changes for app versions that shipped against openapi/released/v1.json "
        "(make them additive instead; openapi/README.md):\n  " + "\n  ".join(found)
    )


# ---- the check above, on a small spec: it sees what optic does not ----

_NULLABLE = {"anyOf": [{"type": "string"}, {"type": "null"}]}


def _small_spec() -> Spec:
    def body(name: str) -> dict[str, Any]:
        return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}

    ok = {"200": {"description": "OK", "content": body("MeOut")}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/v1/me": {
                "get": {"operationId": "get_me", "responses": copy.deepcopy(ok)},
                "patch": {
                    "operationId": "patch_me",
                    "requestBody": {"content": body("MePatch")},
                    "responses": copy.deepcopy(ok),
                },
            }
        },
        "components": {
            "schemas": {
                "MeOut": {
                    "type": "object",
                    "properties": {"uid": {"type": "string"}, "locale": dict(_NULLABLE)},
                    "required": ["uid", "locale"],
                },
                "MePatch": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "locale": dict(_NULLABLE),
                        "platform": {"enum": ["ios", "android"], "type": "string"},
                    },
                },
            }
        },
    }


def _out(spec: Spec) -> Schema:
    schema: Schema = spec["components"]["schemas"]["MeOut"]
    return schema


def _patch(spec: Spec) -> Schema:
    schema: Schema = spec["components"]["schemas"]["MePatch"]
    return schema


BREAKING: dict[str, Callable[[Spec], object]] = {
    "nullable response field removed": lambda s: (
        _out(s)["properties"].pop("locale"),
        _out(s)["required"].remove("locale"),
    ),
    "response field made nullable": lambda s: _out(s)["properties"].update(uid=dict(_NULLABLE)),
    "response field no longer required": lambda s: _out(s)["required"].remove("uid"),
    "optional nullable request field made required": lambda s: _patch(s).update(
        required=["locale"]
    ),
    "request field no longer nullable": lambda s: _patch(s)["properties"].update(
        locale={"type": "string"}
    ),
    "new required request field": lambda s: (
        _patch(s)["properties"].update(pronouns={"type": "string"}),
        _patch(s).update(required=["pronouns"]),
    ),
    "request field removed while unknown fields are refused": lambda s: _patch(s)["properties"].pop(
        "locale"
    ),
    "request enum value dropped": lambda s: _patch(s)["properties"]["platform"].update(
        enum=["ios"]
    ),
    "operation removed": lambda s: s["paths"]["/v1/me"].pop("patch"),
    "operationId renamed": lambda s: s["paths"]["/v1/me"]["get"].update(operationId="me"),
    "response field type changed": lambda s: _out(s)["properties"].update(uid={"type": "integer"}),
}
ADDITIVE: dict[str, Callable[[Spec], object]] = {
    "optional request field added": lambda s: _patch(s)["properties"].update(
        pronouns=dict(_NULLABLE)
    ),
    "response field added": lambda s: _out(s)["properties"].update(pronouns={"type": "string"}),
    "operation added": lambda s: s["paths"].update(
        {"/v1/stats": {"get": {"operationId": "get_stats", "responses": {}}}}
    ),
    "request field made nullable": lambda s: _patch(s)["properties"].update(
        platform={"anyOf": [{"enum": ["ios", "android"], "type": "string"}, {"type": "null"}]}
    ),
    "request enum value added": lambda s: _patch(s)["properties"]["platform"].update(
        enum=["ios", "android", "web"]
    ),
}


@pytest.mark.parametrize("change", BREAKING)
def test_the_check_refuses_a_breaking_change(change: str) -> None:
    new = _small_spec()
    BREAKING[change](new)
    assert _breaking_changes(_small_spec(), new), change


@pytest.mark.parametrize("change", ADDITIVE)
def test_the_check_lets_an_additive_change_through(change: str) -> None:
    new = _small_spec()
    ADDITIVE[change](new)
    assert _breaking_changes(_small_spec(), new) == []
