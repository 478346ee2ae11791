"""Postgres's part of export and erasure: for each table the registry of per-user data names,
how the uid finds the user's rows, how they are read out (JSON-ready, push tokens masked) and
how erasure removes or scrubs them.

Every Postgres entry of the registry has a rule here (`tests/integration/privacy/` checks it):
a new table is declared in the registry, then given its rule.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Executable, Table, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.tables import metadata
from datastore.postgres.tables.columns import SET_BY_TRIGGERS
from domain.user_data import DataStore, Erasure, UserData

_BATCH = 2_000
ERASED_EXAMPLE = "erased"
"""What replaces an erased user's ids in verify's stored examples."""


@dataclass(frozen=True, slots=True)
class _Rule:
    where: str
    """SQL matching the user's rows, with `:uid`."""
    order: str
    scrub: Mapping[str, str] | None = None
    """For `Erasure.SCRUB`: each column's new value, as SQL (the rows are `where`'s)."""


_BY_USER_ID = _Rule("user_id = :uid", "1")
RULES: dict[str, _Rule] = {
    "users": _Rule("uid = :uid", "uid"),
    "backfill_quarantine": _Rule("uid = :uid", "path"),
    "scheduled_tasks": _Rule("payload->>'user_id' = :uid", "id"),
    "failed_messages": _Rule(
        "attributes->>'user_id' = :uid",
        "id",
        scrub={
            "attributes": "attributes - 'user_id' - 'path'",
            "data": "''::bytea",
            "replayed_at": "coalesce(replayed_at, now())",
        },
    ),
    "migration_verifications": _Rule(
        "(examples::text LIKE :exact ESCAPE '\\' OR examples::text LIKE :prefix ESCAPE '\\')", "id"
    ),
    "privacy_requests": _Rule(
        "subject_uid = :uid AND state IN ('completed', 'refused', 'cancelled')",
        "id",
        # Open requests keep their subject until they end (an erasure in progress needs it).
        scrub={"subject_uid": "NULL"},
    ),
    "erased_users": _Rule("uid = :uid", "uid"),
    "privacy_audit": _Rule("false", "seq"),
}
"""Tables whose rows are not found by a `user_id` column; every other entry uses `user_id`."""
MASKED = {"devices": ("push_token",)}
"""Columns an export shows only the end of: enough to recognise, useless to misuse."""


def rule_of(entry: UserData) -> _Rule:
    return RULES.get(entry.location, _BY_USER_ID)


class PostgresPersonalData:
    store = DataStore.POSTGRES

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def count(self, entry: UserData, uid: str) -> int:
        query = select(func.count()).select_from(_table(entry)).where(_matching(entry))
        async with self._engine.connect() as conn:
            found = await conn.scalar(query, _params(uid))
        return int(found or 0)

    async def read(self, entry: UserData, uid: str) -> AsyncIterator[Mapping[str, Any]]:
        rule = rule_of(entry)
        table = _table(entry)
        shown = [c for c in table.columns if c.name not in SET_BY_TRIGGERS]
        query = select(*shown).where(text(rule.where)).order_by(text(rule.order))
        masked = MASKED.get(entry.location, ())
        async with self._engine.connect() as conn:
            result = await conn.stream(query, _params(uid))
            async for partition in result.mappings().partitions(_BATCH):
                for row in partition:
                    yield {
                        name: mask(value) if name in masked else json_ready(value)
                        for name, value in row.items()
                    }

    async def erase(self, entry: UserData, uid: str) -> int:
        table = _table(entry)
        scrub = rule_of(entry).scrub
        statement: Executable
        if entry.erasure is Erasure.KEPT:
            return 0
        if entry.erasure is Erasure.SCRUB and scrub is not None:
            values = {column: text(value) for column, value in scrub.items()}
            statement = update(table).where(_matching(entry)).values(values)
        else:
            statement = delete(table).where(_matching(entry))
        async with self._engine.begin() as conn:
            if entry.location == "migration_verifications":
                return await _scrub_examples(conn, uid)
            result = await conn.execute(statement, _params(uid))
        return int(getattr(result, "rowcount", 0) or 0)


def _table(entry: UserData) -> Table:
    assert entry.store is DataStore.POSTGRES, entry.name
    return metadata.tables[entry.location]


def _matching(entry: UserData) -> ColumnElement[bool]:
    """The user's rows of `entry`, as its rule finds them."""
    where: ColumnElement[bool] = text(rule_of(entry).where)  # type: ignore[assignment]
    return where


def _params(uid: str) -> dict[str, str]:
    """`:uid`, and LIKE patterns finding it as a JSON string (`"uid"`, `"uid/…`)."""
    in_json = json.dumps(uid)[1:-1]
    escaped = in_json.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {"uid": uid, "exact": f'%"{escaped}"%', "prefix": f'%"{escaped}/%'}


async def _scrub_examples(conn: Any, uid: str) -> int:
    """Verify's stored example ids (`uid` or `uid/<record key>`) of the user, replaced."""
    verifications = metadata.tables["migration_verifications"]
    rows = (
        await conn.execute(
            select(verifications.c.id, verifications.c.examples)
            .where(text(RULES["migration_verifications"].where))
            .with_for_update(),
            _params(uid),
        )
    ).all()
    touched = 0
    for row_id, examples in rows:
        scrubbed = {
            kind: [ERASED_EXAMPLE if _names(example, uid) else example for example in ids]
            for kind, ids in examples.items()
        }
        if scrubbed != examples:
            touched += 1
            await conn.execute(
                text(
                    "UPDATE migration_verifications SET examples = CAST(:e AS jsonb) WHERE id = :id"
                ),
                {"e": json.dumps(scrubbed), "id": row_id},
            )
    return touched


def _names(example: str, uid: str) -> bool:
    return example == uid or example.startswith(uid + "/")


def mask(value: Any) -> Any:
    if not isinstance(value, str) or not value:
        return value
    return "…" + value[-4:] if len(value) > 8 else "…"


def json_ready(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, list):
        return [json_ready(v) for v in value]
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    return value
