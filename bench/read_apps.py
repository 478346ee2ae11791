"""The apps `api_read.py` and `read_instructions.py` measure, and the data they read.

- `our_app`: `app.bootstrap.build_app` as `focus serve` builds it, in three variants: `ours`,
  `lim` (the rate limiter counting every request, refusing none) and `trace` (tracing at
  production's sampling, kept spans written to a discarded stderr).
- `bare_app`: a Starlette app doing only the essential work: it verifies the same dev token,
  runs the SQL our repository sends (captured from the driver by `capture_queries`, not
  retyped) on the same kind of pool, and writes JSON with orjson.
- `floor_app`: the bare app's work declared as FastAPI routes (the caller a dependency, the id
  a typed path parameter), with no middleware: what the framework costs before our code.

`app_for` builds any of the five by name; `dev_settings` are the embedded default's settings
the benches start from. `seed` gives the bench's user its focus sessions in a scratch database.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import sys
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

USER = "bench-user"
HEADERS = {"X-Platform": "ios", "X-App-Version": "4.2.0"}


def bind(query: dict[str, Any], uid: str, session_id: uuid.UUID | None) -> dict[str, Any]:
    """The captured statement's parameters for this caller (and session)."""
    known = {"uid": uid, "session_id": session_id}
    return {k: known[v[1]] if v[0] == "var" else v[1] for k, v in query["params"].items()}


def out(row: Any) -> dict[str, Any]:
    """A focus session's JSON fields straight from its row."""
    m = row._mapping
    fields = {k: m[k] for k in ("id", "blocklist_id", "mode", "started_at", "ended_at")}
    fields |= {k: m[k] for k in ("outcome", "timezone", "local_date", "version")}
    fields |= {k: m[k] for k in ("created_at", "updated_at")}
    return fields | {"planned_duration_minutes": m["planned_duration_seconds"] // 60}


def json_out(payload: Any, status: int = 200, **headers: str) -> Response:
    body = orjson.dumps(payload, option=orjson.OPT_UTC_Z)
    return Response(body, status, headers=headers, media_type="application/json")


def next_cursor(rows: Any) -> str | None:
    if len(rows) <= 50:
        return None
    last = rows[49]
    raw = orjson.dumps([last.started_at.isoformat(), str(last.id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def essentials(url: str, secret: Path, pool_size: int) -> tuple[Any, Any]:
    """What the bare and floor apps share: the engine (as ours makes it) and the caller's
    uid from the dev token (`async (request) -> uid`, raising `Unauthenticated`)."""
    from datastore.postgres.engine import create_engine
    from identity.dev_issuer import DevTokenIssuer, load_or_create_secret

    engine = create_engine(url, pool_size=pool_size)
    verifier = DevTokenIssuer(load_or_create_secret(secret))

    async def uid_of(request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        principal = await verifier.verify(token.strip() if scheme.lower() == "bearer" else "")
        return principal.uid

    return engine, uid_of


def bare_app(url: str, secret: Path, pool_size: int, queries: dict[str, Any]) -> Any:
    from starlette.applications import Starlette
    from starlette.routing import Route

    from domain.errors import Unauthenticated

    engine, uid_of = essentials(url, secret, pool_size)
    one, page = queries["single"], queries["list"]

    async def get_one(request: Request) -> Response:
        try:
            uid = await uid_of(request)
            session_id = uuid.UUID(request.path_params["session_id"])
        except (Unauthenticated, ValueError):
            return json_out({"code": "refused"}, 401)
        async with engine.connect() as conn:
            row = (await conn.exec_driver_sql(one["sql"], bind(one, uid, session_id))).first()
        if row is None:
            return json_out({"code": "not_found"}, 404)
        return json_out(out(row), ETag=f'"v{row.version}"')

    async def list_page(request: Request) -> Response:
        try:
            uid = await uid_of(request)
        except Unauthenticated:
            return json_out({"code": "refused"}, 401)
        async with engine.connect() as conn:
            rows = (await conn.exec_driver_sql(page["sql"], bind(page, uid, None))).all()
        return json_out({"items": [out(r) for r in rows[:50]], "next_cursor": next_cursor(rows)})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        await engine.dispose()

    routes = [
        Route("/v1/focus-sessions", list_page),
        Route("/v1/focus-sessions/{session_id}", get_one),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def floor_app(url: str, secret: Path, pool_size: int, queries: dict[str, Any]) -> Any:
    """The bare app's work declared as FastAPI declares a route: the caller a dependency,
    `session_id` a typed path parameter. What our framework costs before any code of ours."""
    from fastapi import Depends, FastAPI

    from domain.errors import Unauthenticated

    engine, caller = essentials(url, secret, pool_size)
    one, page = queries["single"], queries["list"]
    # A default, not an `Annotated` alias: this module's annotations are strings, which
    # FastAPI resolves in the module's globals, where the local `caller` is not.
    uid_of_caller = Depends(caller)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.exception_handler(Unauthenticated)
    async def refused(request: Request, error: Unauthenticated) -> Response:
        return json_out({"code": "refused"}, 401)

    @app.get("/v1/focus-sessions/{session_id}")
    async def get_one(session_id: uuid.UUID, uid: str = uid_of_caller) -> Response:
        async with engine.connect() as conn:
            row = (await conn.exec_driver_sql(one["sql"], bind(one, uid, session_id))).first()
        if row is None:
            return json_out({"code": "not_found"}, 404)
        return json_out(out(row), ETag=f'"v{row.version}"')

    @app.get("/v1/focus-sessions")
    async def list_page(uid: str = uid_of_caller) -> Response:
        async with engine.connect() as conn:
            rows = (await conn.exec_driver_sql(page["sql"], bind(page, uid, None))).all()
        items = [out(r) for r in rows[:50]]
        return json_out({"items": items, "next_cursor": next_cursor(rows)})

    return app


UNREACHED = "1000000000/minute"
"""Budgets the load never reaches: the limiter counts every request and refuses none."""


def dev_settings(data_dir: Path, pool_size: int, **more: Any) -> Any:
    """The embedded default's settings (dev tokens, no .env file) with `more` on top."""
    from app.settings import Settings

    return Settings(
        _env_file=None, env="dev", auth="dev", data_dir=data_dir, db_pool_size=pool_size, **more
    )


def our_app(
    which: str, url: str, data_dir: Path, pool_size: int, limits: str = "async+memory://"
) -> Any:
    """`ours`, `lim` (the rate limiter counting, never refusing) or `trace` (tracing at
    production's sampling, the spans kept written to a discarded stderr)."""
    from app.bootstrap import build, build_app
    from app.settings import TracingMode

    budgets = ("per_ip", "reads", "writes", "anonymous_reads", "anonymous_writes")
    settings = dev_settings(
        data_dir,
        pool_size,
        rate_limits=which == "lim",
        rate_limit_storage=limits,
        tracing=TracingMode.CONSOLE if which == "trace" else TracingMode.OFF,
        # As on production's API instances: the outbox relay, the task worker and mirror
        # repair run elsewhere, not polling the database beside the reads measured.
        relay_in_process=False,
        task_worker_in_process=False,
        mirror_repair_in_process=False,
        **{f"rate_limit_{budget}": UNREACHED for budget in budgets},
    )
    if which == "trace":  # the spans kept are written, then thrown away
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (the process's own stderr)
    return build_app(build(settings, url))


def new_traceparent(rng: random.Random = random.Random()) -> str:
    """A `traceparent` as Cloud Run's front end sets one: a trace id of its own, not sampled."""
    return f"00-{rng.getrandbits(128):032x}-{rng.getrandbits(64):016x}-00"


def seed(url: str, sessions: int) -> list[uuid.UUID]:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO users (uid, change_seq, version, created_at, updated_at)"
            " VALUES (%s, %s, 0, now(), now())",
            (USER, sessions),
        )
        conn.execute(
            "INSERT INTO focus_sessions (id, user_id, mode, planned_duration_seconds, started_at,"
            " ended_at, outcome, timezone, local_date, version, created_at, updated_at)"
            " SELECT gen_random_uuid(), %s, 'normal', 1500, t, t + interval '25 minutes',"
            " 'completed', 'UTC', t::date, n, t, t + interval '25 minutes'"
            " FROM generate_series(1, %s) AS n,"
            " LATERAL (SELECT now() - n * interval '7 hours' AS t) AS s",
            (USER, sessions),
        )
        conn.execute("ANALYZE")
        return [r[0] for r in conn.execute("SELECT id FROM focus_sessions ORDER BY version DESC")]


def capture_queries(url: str, session_id: uuid.UUID) -> dict[str, Any]:
    """The SQL and parameters our repository sends for both reads, as the driver receives them."""
    from sqlalchemy import event

    from api.pagination import page_request
    from datastore.postgres.engine import create_engine
    from datastore.postgres.unit_of_work import PostgresUnitOfWork
    from domain.focus_sessions import use_cases
    from domain.focus_sessions.model import DayRange

    async def run() -> dict[str, Any]:
        engine = create_engine(url, pool_size=1)
        seen: list[tuple[str, dict[str, Any]]] = []
        event.listen(
            engine.sync_engine,
            "before_cursor_execute",
            lambda _c, _cur, sql, params, *_: seen.append((sql, params)),
        )
        uow = PostgresUnitOfWork(engine)
        queries = {}
        try:
            for name, read in (
                ("single", lambda: use_cases.get_focus_session(uow, USER, session_id)),
                (
                    "list",
                    lambda: use_cases.list_focus_sessions(
                        uow, USER, DayRange(None, None), page_request(None, 50)
                    ),
                ),
            ):
                seen.clear()
                async with uow:
                    await read()
                [(sql, params)] = [(s, p) for s, p in seen if "FROM focus_sessions" in s]
                queries[name] = {"sql": sql, "params": {k: _param(v) for k, v in params.items()}}
        finally:
            await engine.dispose()
        return queries

    def _param(value: Any) -> tuple[str, Any]:
        if value == USER:
            return ("var", "uid")
        if value == session_id:
            return ("var", "session_id")
        if isinstance(value, int | str):
            return ("const", value)
        raise TypeError(f"the bench cannot pass {value!r} to the bare app")

    return asyncio.run(run())


def app_for(
    which: str, url: str, data_dir: Path, pool_size: int, limits: str = "async+memory://"
) -> Any:
    """`which` app (ours, lim, trace, floor or bare) on `url`; the bare and floor apps read the
    captured SQL from `data_dir/queries.json`, all verify tokens with its dev-token secret."""
    if which in ("ours", "lim", "trace"):
        return our_app(which, url, data_dir, pool_size, limits)
    queries = json.loads((data_dir / "queries.json").read_text())
    make = floor_app if which == "floor" else bare_app
    return make(url, data_dir / "dev-token-secret", pool_size, queries)
