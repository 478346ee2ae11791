"""The worked questions of docs/exports.md, run as written there: people are seeded through the
API on chosen days, the exporter runs (twice, so that records have several versions), and each
question's DuckDB SQL, taken from the doc's fenced block named `-- question: <name>`, gives the
numbers the seed implies."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from tests.conftest import ApiUser
from tests.integration.growth.conftest import Growth
from tests.support.clock import TestClock

DOC = Path(__file__).resolve().parents[3] / "docs" / "exports.md"
BLOCK = re.compile(r"```sql\n(-- question: ([a-z0-9_]+)( \(bigquery\))?\n.*?)```", re.DOTALL)


def questions() -> dict[str, str]:
    """The DuckDB SQL of each worked question in the doc, by name, exactly as written."""
    found: dict[str, str] = {}
    for match in BLOCK.finditer(DOC.read_text()):
        sql, name, bigquery = match.groups()
        if not bigquery:
            assert name not in found, f"two DuckDB blocks named {name}"
            found[name] = sql
    return found


def ask(growth: Growth, name: str) -> list[dict[str, Any]]:
    sql = questions()[name].replace("{root}", str(growth.files))
    result = duckdb.connect().sql(sql)
    names = result.columns
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def versions(growth: Growth, dataset: str, key: str) -> tuple[int, int]:
    """How many rows, and how many records, the dataset's files hold."""
    files = f"{growth.files}/growth/v1/{dataset}/**/*.parquet"
    found = (
        duckdb.connect()
        .execute(
            f"SELECT count(*), count(DISTINCT {key}) FROM read_parquet(?)",  # noqa: S608
            [files],
        )
        .fetchone()
    )
    assert found is not None
    return int(found[0]), int(found[1])


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


class Seed:
    """Writes as the apps do, each call at the instant it names (the clock moves forward)."""

    def __init__(self, growth: Growth, clock: TestClock, database_url: str) -> None:
        self.growth, self.clock, self.database_url = growth, clock, database_url
        self.blocklists: dict[str, str] = {}

    def call(self, when: datetime, method: str, url: str, user: ApiUser, **kwargs: Any) -> Any:
        self.clock.set(when)
        response = self.growth.client.request(method, url, headers=user.headers, **kwargs)
        assert response.is_success, response.text
        return response.json() if response.content else None

    def signup(self, when: datetime, *platforms: str, consent: bool = True) -> ApiUser:
        """A new account (its first write is now), its analytics consent and its devices."""
        user = self.growth.user()
        self.call(when, "PATCH", "/v1/me", user, json={"consents": {"analytics": consent}})
        # The account row is made with the database's now(), which the test clock does not
        # drive: it is dated back to this first write (before any run exports it).
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute("UPDATE users SET created_at = %s WHERE uid = %s", (when, user.uid))
        for n, platform in enumerate(platforms):
            device = {"platform": platform, "app_version": "4.2.0"}
            self.call(when, "PUT", f"/v1/devices/{platform}-{n}-{user.uid}", user, json=device)
        return user

    def session(
        self, user: ApiUser, start: datetime, minutes: int | None, outcome: str = "completed"
    ) -> None:
        """A 25-minute session started at `start`, ended `minutes` later (None: left running)."""
        made = self.call(start, "POST", "/v1/focus-sessions", user,
                         json={"planned_duration_minutes": 25})  # fmt: skip
        if minutes is not None:
            ended = start + timedelta(minutes=minutes)
            body = {"outcome": outcome, "ended_at": ended.isoformat()}
            self.call(ended, "POST", f"/v1/focus-sessions/{made['id']}/end", user, json=body)

    def schedule(self, user: ApiUser, when: datetime) -> dict[str, Any]:
        if user.uid not in self.blocklists:
            blocklist = self.call(when, "POST", "/v1/blocklists", user, json={"name": "Social"})
            self.blocklists[user.uid] = blocklist["id"]
        body = {"name": "Evenings", "days": ["mon", "wed"], "start_local": "19:00",
                "end_local": "21:00", "timezone": "UTC",
                "blocklist_id": self.blocklists[user.uid]}  # fmt: skip
        schedule: dict[str, Any] = self.call(when, "POST", "/v1/schedules", user, json=body)
        return schedule

    def patch_schedule(
        self, user: ApiUser, schedule: dict[str, Any], when: datetime, **changes: Any
    ) -> dict[str, Any]:
        current = self.call(when, "GET", f"/v1/schedules/{schedule['id']}", user)
        self.clock.set(when)
        response = self.growth.client.patch(
            f"/v1/schedules/{schedule['id']}",
            headers=user.with_headers(If_Match=f'"v{current["version"]}"'),
            json=changes,
        )
        assert response.status_code == 200, response.text
        patched: dict[str, Any] = response.json()
        return patched

    def delete_schedule(self, user: ApiUser, schedule: dict[str, Any], when: datetime) -> None:
        current = self.call(when, "GET", f"/v1/schedules/{schedule['id']}", user)
        response = self.growth.client.delete(
            f"/v1/schedules/{schedule['id']}",
            headers=user.with_headers(If_Match=f'"v{current["version"]}"'),
        )
        assert response.status_code == 204, response.text


def seed(growth: Growth, s: Seed) -> None:
    """Six people over six weeks, the exporter run on 06-12 and again on 07-10."""
    # Week A (Monday 2026-06-01): ann, ben and cat sign up on Tuesday 06-02. fay too, without
    # analytics consent: she is never exported, so nothing of hers counts anywhere.
    ann = s.signup(at("2026-06-02", 9), "ios")
    ben = s.signup(at("2026-06-02", 9), "android")
    cat = s.signup(at("2026-06-02", 9), "ios", "android")
    fay = s.signup(at("2026-06-02", 9), "ios", consent=False)
    s.schedule(ann, at("2026-06-02", 10))  # s1: left enabled
    s2 = s.schedule(ann, at("2026-06-02", 10))
    s.schedule(fay, at("2026-06-02", 10))
    s.session(ben, at("2026-06-03"), 26)
    s3 = s.schedule(ann, at("2026-06-03", 13))
    s4 = s.schedule(ann, at("2026-06-03", 13))
    s.session(ben, at("2026-06-04"), 60)
    s.patch_schedule(ann, s3, at("2026-06-05"), enabled=False)
    # Week B (Monday 2026-06-08): dan and eve sign up on Tuesday 06-09.
    dan = s.signup(at("2026-06-09", 9), "ios")
    s.signup(at("2026-06-09", 9), "android")  # eve: no session ever
    s.session(ann, at("2026-06-09"), 30)
    s.session(fay, at("2026-06-09"), 100)
    s.session(ann, at("2026-06-10"), 40)
    s.schedule(ben, at("2026-06-10", 15))  # s6: left enabled
    s.schedule(cat, at("2026-06-11"))  # s7: left enabled
    growth.run()  # the first daily run: what follows are new versions, or new records
    s.session(cat, at("2026-06-14"), 45)
    s.session(ben, at("2026-06-15"), 10, outcome="abandoned")
    s.session(dan, at("2026-06-15"), 35)
    s.session(dan, at("2026-06-16"), None)  # still running: no outcome, no length
    s.call(at("2026-06-16"), "PATCH", "/v1/me", ann, json={"daily_goal_minutes": 90})
    s.patch_schedule(ann, s2, at("2026-06-20"), enabled=False)
    s.delete_schedule(ann, s4, at("2026-06-20"))
    s.patch_schedule(ann, s3, at("2026-06-25"), enabled=True)
    s.schedule(dan, at("2026-07-10"))  # s5, the last write of all: the export's last day
    growth.run()


def test_the_worked_questions_of_the_doc_give_the_numbers_the_seed_implies(
    growth: Growth, clock: TestClock, scratch_database: str
) -> None:
    seed(growth, Seed(growth, clock, scratch_database))
    # The files hold several versions of some records, which the questions must not count
    # twice: ann's profile (two), s2, s3 and s4 (exported on 06-12, changed since).
    assert versions(growth, "users", "pseudonym") == (6, 5)
    assert versions(growth, "schedules", "record") == (10, 7)

    # a. Week A: ann (a session on 06-09, in 06-08..06-14), ben (06-03 and 06-04 in week A
    #    itself, 06-15 is already week A+2) and cat (06-14, the last day of week A+1): 2 of 3.
    #    fay's 06-09 session does not count, nor does she. ann's two profile versions are one
    #    person. Week B: dan (06-15, the first day of week B+1), eve (none): 1 of 2.
    assert ask(growth, "week1_retention") == [
        {"signup_week": at("2026-06-01").date(), "people": 3, "retained": 2,
         "share": pytest.approx(2 / 3)},
        {"signup_week": at("2026-06-08").date(), "people": 2, "retained": 1,
         "share": pytest.approx(1 / 2)},
    ]  # fmt: skip
    # b. Completed sessions' lengths by the person's platforms: android is ben (26, 60; his
    #    abandoned 10 does not count) and cat (45): median of 26, 45, 60 = 45. ios is ann (30,
    #    40), cat (45, counted on both platforms) and dan (35; his running session does not
    #    count): median of 30, 35, 40, 45 = 37.5. fay's 100 is not exported. eve has none.
    assert ask(growth, "median_completed_minutes_by_platform") == [
        {"platform": "android", "sessions": 3, "median_minutes": 45.0},
        {"platform": "ios", "sessions": 4, "median_minutes": 37.5},
    ]
    # c. The export's last day is 07-10 (dan's schedule, the last write), so the schedules
    #    made on or before 06-10 count: s1 (enabled), s2 (disabled on 06-20), s3 (disabled on
    #    06-05, exported so, enabled again on 06-25: its latest version is enabled), s4
    #    (deleted on 06-20) and s6 (made on 06-10, exactly 30 days before; enabled): 3 of 5.
    #    cat's (06-11, 29 days) and dan's (07-10) are too recent; fay's is not exported.
    assert ask(growth, "schedules_enabled_after_30_days") == [
        {"schedules": 5, "still_enabled": 3, "share": pytest.approx(3 / 5)},
    ]


def test_every_worked_question_has_its_duckdb_sql_and_its_bigquery_flavour() -> None:
    text = DOC.read_text()
    names = [m.group(2) for m in BLOCK.finditer(text) if not m.group(3)]
    bigquery = [m.group(2) for m in BLOCK.finditer(text) if m.group(3)]

    assert names == [
        "week1_retention",
        "median_completed_minutes_by_platform",
        "schedules_enabled_after_30_days",
    ]
    assert bigquery == names
    for name in names:
        assert "{root}/growth/v1/" in questions()[name]
