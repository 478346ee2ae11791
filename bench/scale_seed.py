"""The data of `scale.py` (and `load.py`): users with everything a user has, set-based.

`seed_users` writes users `first`..`last` by `INSERT … SELECT generate_series`, CHUNK users per
transaction: each with PER_USER focus sessions over as many days, 2 blocklists, 2 schedules,
30 days of usage reports and 10 published outbox events, versions from the user's change
counter as the app takes them. A user's own data is the same at every size; only the total
grows. `vacuum_analyze`, `explain` (the list and the writes' statements, EXPLAIN ANALYZE) and
`table_sizes` serve the measurements.
"""

from __future__ import annotations

import time
from datetime import datetime

PER_USER = 100
"""Focus sessions per user: a user's own data is the same at every size, only the total grows."""
CHUNK = 5_000
"""Users per seeding transaction (500,000 sessions)."""
_USERS = (
    " FROM generate_series(%(a)s::int, %(b)s::int) AS u,"
    " LATERAL (SELECT 'u' || lpad(u::text, 8, '0') AS uid,"
    " (ARRAY['Europe/Berlin', 'America/New_York', 'Asia/Tokyo'])[1 + u %% 3] AS tz) AS p"
)
# Session n of a user started (101 - n) days before today, 09:00 UTC plus a minute per user.
_DAYS = (
    ", generate_series(%(first)s::int, 100) AS n, LATERAL (SELECT %(day0)s::timestamptz"
    " - (101 - n) * interval '1 day' + interval '9 hours' + u %% 480 * interval '1 minute' AS t,"
    " 1500 + n %% 4 * 900 AS planned, md5(uid || '/f/' || n)::uuid AS sid) AS s"
)
# Versions: blocklists 1-2, schedules 3-4, session n 3 + 2n, its day's usage report 4 + 2n;
# change_seq is the last of them. Every version belongs to exactly one row.
SEED = {
    "users": "INSERT INTO users (uid, display_name, timezone, locale, daily_goal_minutes,"
    " notifications_enabled, consent_ai_features, consent_analytics, change_seq, version,"
    " created_at, updated_at) SELECT uid, 'User ' || u, tz, 'en-US', 60, true, false, false,"
    " 204, 0, %(day0)s::timestamptz - interval '200 days', %(day0)s::timestamptz" + _USERS,
    "blocklists": "INSERT INTO blocklists (user_id, id, name, items, version, created_at,"
    " updated_at) SELECT uid, md5(uid || '/b/' || k)::uuid, 'Blocklist ' || k,"
    " jsonb_build_array(jsonb_build_object('kind', 'web_domain', 'value', 'site' || k ||"
    " '.example.com'), jsonb_build_object('kind', 'android_package',"
    " 'value', 'com.example.app' || k)), k,"
    " %(day0)s::timestamptz - interval '150 days', %(day0)s::timestamptz - interval '150 days'"
    + _USERS
    + ", generate_series(1, 2) AS k",
    "schedules": "INSERT INTO schedules (user_id, id, name, days, start_local, end_local,"
    " timezone, blocklist_id, strictness, enabled, version, created_at, updated_at) SELECT uid,"
    " md5(uid || '/sc/' || k)::uuid, 'Schedule ' || k, ARRAY['mon', 'tue', 'wed', 'thu', 'fri'],"
    " time '09:00' + k * interval '1 hour', time '18:00', tz, md5(uid || '/b/' || k)::uuid,"
    " CASE WHEN k = 2 THEN 'hard' ELSE 'normal' END, true, 2 + k,"
    " %(day0)s::timestamptz - interval '140 days', %(day0)s::timestamptz - interval '140 days'"
    + _USERS
    + ", generate_series(1, 2) AS k",
    "focus_sessions": "INSERT INTO focus_sessions (id, user_id, blocklist_id, mode,"
    " planned_duration_seconds, started_at, ended_at, outcome, timezone, local_date, version,"
    " created_at, updated_at) SELECT sid, uid, md5(uid || '/b/' || 1 + n %% 2)::uuid,"
    " CASE WHEN n %% 5 = 0 THEN 'hard' ELSE 'normal' END, planned, t, t + CASE WHEN n %% 7 = 0"
    " THEN planned / 2 ELSE planned END * interval '1 second', CASE WHEN n %% 7 = 0 THEN"
    " 'abandoned' ELSE 'completed' END, tz, (t AT TIME ZONE tz)::date, 3 + 2 * n, t,"
    " t + planned * interval '1 second'" + _USERS + _DAYS,
    "usage_reports": "INSERT INTO usage_reports (user_id, installation_id, date, total_minutes,"
    " pickups, minutes_per_category, top_apps, version, created_at, updated_at) SELECT uid,"
    " 'inst-0001', (t AT TIME ZONE tz)::date, 240 + n * 37 %% 600, n * 13 %% 150,"
    " jsonb_build_object('social', n %% 120, 'productivity_finance', n %% 90, 'games', n %% 30),"
    " jsonb_build_array(jsonb_build_object('token', 'app-a', 'minutes', 60 + n %% 40),"
    " jsonb_build_object('token', 'app-b', 'minutes', n %% 45)), 4 + 2 * n,"
    " t + interval '14 hours', t + interval '14 hours'" + _USERS + _DAYS,
    # Ids UUIDv7-shaped (the millisecond of the event first), as the app writes them.
    "outbox_events": "INSERT INTO outbox_events (id, user_id, type, schema_version, subject_id,"
    " record_version, payload, occurred_at, published_at, origin_installation_id) SELECT"
    " (lpad(to_hex((extract(epoch FROM t) * 1000)::bigint), 12, '0') || '7' ||"
    " substr(md5(uid || '/o/' || n), 1, 3) || '8' || substr(md5(uid || '/o/' || n), 4, 15))::uuid,"
    " uid, 'focus_session.completed', 1, sid::text, 3 + 2 * n, jsonb_build_object('id', sid,"
    " 'version', 3 + 2 * n), t + planned * interval '1 second',"
    " t + planned * interval '1 second' + interval '1 second', 'inst-0001'" + _USERS + _DAYS,
}
FIRST_DAY = {"users": 1, "blocklists": 1, "schedules": 1, "focus_sessions": 1}
FIRST_DAY |= {"usage_reports": 71, "outbox_events": 91}
"""Usage reports for the last 30 days, published events of the last 10 sessions."""
TABLES = tuple(SEED)


def uid(n: int) -> str:
    return f"u{n:08d}"


def seed_users(url: str, first: int, last: int, day0: datetime) -> float:
    """Users `first`..`last` with all their rows, CHUNK users per transaction; the seconds."""
    import psycopg

    began = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute("SET synchronous_commit = off")
        for a in range(first, last + 1, CHUNK):
            b = min(last, a + CHUNK - 1)
            for table, sql in SEED.items():
                conn.execute(sql, {"a": a, "b": b, "day0": day0, "first": FIRST_DAY[table]})
            conn.commit()
            done = (b - first + 1) * PER_USER
            print(f"  seeded {done:,} sessions, {time.perf_counter() - began:.0f} s", flush=True)
    return time.perf_counter() - began


def vacuum_analyze(url: str) -> float:
    """VACUUM ANALYZE, then a checkpoint: the gigabytes the load dirtied are on disk before
    measuring, not written back while the writes measured wait for their commits' flushes."""
    import psycopg

    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        for table in TABLES:
            conn.execute(f"VACUUM ANALYZE {table}")
        conn.execute("CHECKPOINT")
    return time.perf_counter() - began


EXPLAINED = {
    "list": "SELECT * FROM focus_sessions WHERE user_id = %(u)s AND deleted_at IS NULL"
    " ORDER BY started_at DESC, id DESC LIMIT 51",
    "next_version": "INSERT INTO users AS u (uid, change_seq, created_at, updated_at)"
    " VALUES (%(u)s, 1, now(), now()) ON CONFLICT (uid) DO UPDATE SET change_seq ="
    " u.change_seq + 1 RETURNING change_seq",
    "start_insert": "INSERT INTO focus_sessions (id, user_id, mode, planned_duration_seconds,"
    " started_at, timezone, local_date, version, created_at, updated_at) VALUES"
    " (gen_random_uuid(), %(u)s, 'normal', 1500, now(), 'UTC', current_date, 10000, now(),"
    " now())",
    "end_update": "UPDATE focus_sessions SET ended_at = now(), outcome = 'abandoned',"
    " version = 10001, updated_at = now() WHERE user_id = %(u)s"
    " AND id = md5(%(u)s || '/f/100')::uuid",
    "outbox_insert": "INSERT INTO outbox_events (id, user_id, type, schema_version, subject_id,"
    " record_version, payload, occurred_at) VALUES (gen_random_uuid(), %(u)s,"
    " 'focus_session.started', 1, 'x', 10000, '{}', now())",
}
"""Statements shaped as the list and the writes' repositories send them, for EXPLAIN."""


def explain(url: str, user: str) -> dict[str, str]:
    """Each statement's buffers and time (EXPLAIN ANALYZE, BUFFERS), rolled back."""
    import psycopg

    found = {}
    with psycopg.connect(url) as conn:
        for name, sql in EXPLAINED.items():
            plan = [r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, {"u": user})]
            buffers = next((line.strip() for line in plan if "Buffers:" in line), "")
            took = next(line.strip() for line in plan if line.startswith("Execution Time"))
            found[name] = f"{buffers}; {took}"
        conn.rollback()
    return found


def table_sizes(url: str) -> dict[str, tuple[int, int]]:
    """Rows (estimated after ANALYZE) and bytes with indexes, per seeded table."""
    import psycopg

    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(
                "SELECT reltuples::bigint, pg_total_relation_size(oid) FROM pg_class"
                " WHERE oid = %s::regclass",
                (table,),
            ).fetchone()
            or (0, 0)
            for table in TABLES
        }
