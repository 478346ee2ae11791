"""Version numbers for a batch's rows, from each user's counter (`users.change_seq`).

A block of numbers per user in one statement, so versions only grow and sync cursors stay
valid; a document the backend wrote keeps its `_v`, and the counter moves above it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from migration.postgres.backfill.columnar import driver_rows
from migration.postgres.backfill.records import BackfillRecord

# A subcollection row needs its user's row (foreign key): created as `ensure` does.
_ENSURE_USERS = (
    "INSERT INTO users (uid, created_at, updated_at)"
    " SELECT uid, now(), now() FROM unnest(CAST(%(uids)b AS text[])) AS t(uid)"
    " ON CONFLICT (uid) DO NOTHING"
)
# A block of `n` numbers per user, above `floor` (a backend `_v` the batch keeps): the last one
# is returned. A user without a row gets one, numbered from 1 (in the same round trip); one
# created meanwhile by another transaction is in neither part (see `numbered`).
_ENSURE_AND_ALLOCATE = (
    "WITH b AS (SELECT * FROM unnest(CAST(%(uids)b AS text[]), CAST(%(ns)b AS bigint[]),"
    " CAST(%(floors)b AS bigint[])) AS b(uid, n, floor)),"
    " created AS (INSERT INTO users (uid, change_seq, created_at, updated_at)"
    " SELECT uid, floor + n, now(), now() FROM b ON CONFLICT (uid) DO NOTHING"
    " RETURNING uid, change_seq),"
    " taken AS (UPDATE users AS u SET change_seq = GREATEST(u.change_seq, b.floor) + b.n"
    " FROM b WHERE u.uid = b.uid RETURNING u.uid, u.change_seq)"
    " SELECT uid, change_seq FROM created UNION ALL SELECT uid, change_seq FROM taken"
)
_ALLOCATE = (
    "UPDATE users AS u SET change_seq = GREATEST(u.change_seq, b.floor) + b.n"
    " FROM unnest(CAST(%(uids)b AS text[]), CAST(%(ns)b AS bigint[]),"
    " CAST(%(floors)b AS bigint[])) AS b(uid, n, floor)"
    " WHERE u.uid = b.uid RETURNING u.uid, u.change_seq"
)


async def numbered(conn: AsyncConnection, records: Sequence[BackfillRecord]) -> dict[str, int]:
    """Each record's version, by path: its `_v` when it has one, else the next of its user's
    numbers."""
    if not records:
        return {}
    needed: Counter[str] = Counter(r.user_id for r in records if r.source_version == 0)
    floors: dict[str, int] = {}
    for r in records:
        floors[r.user_id] = max(floors.get(r.user_id, 0), r.source_version)
    uids = sorted(floors)
    params = {"uids": uids, "ns": [needed[u] for u in uids], "floors": [floors[u] for u in uids]}
    last: dict[str, int] = dict(await driver_rows(conn, _ENSURE_AND_ALLOCATE, params))
    if len(last) < len(uids):  # a row another transaction created meanwhile: now visible
        await driver_rows(conn, _ENSURE_USERS, {"uids": uids})
        rest = [u for u in uids if u not in last]
        params = {
            "uids": rest,
            "ns": [needed[u] for u in rest],
            "floors": [floors[u] for u in rest],
        }
        last.update(dict(await driver_rows(conn, _ALLOCATE, params)))
    next_number = {uid: last[uid] - needed[uid] + 1 for uid in uids}
    versions: dict[str, int] = {}
    for r in records:
        if r.source_version:
            versions[r.path] = r.source_version
        else:
            versions[r.path] = next_number[r.user_id]
            next_number[r.user_id] += 1
    return versions
