"""The export contract: every dataset the growth team receives, each column allow-listed with
its type and meaning. Nothing outside this contract is ever written (`exports/` builds each
file's schema from it and refuses any other column), and `docs/exports.md` is generated from
the same table. A change that removes or retypes a column is a new contract version.

No column holds a name, email, uid, installation id, push token, blocklist content or free
text. People appear as `pseudonym`: HMAC-SHA256 of the uid under a secret of that user's own,
which erasure destroys; records as `record`, the same HMAC of the record's id, so that their
versions can be told apart and the latest kept, and unlinkable once the secret is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

CONTRACT_VERSION = 1
"""The layout's version: the files live under `growth/v<version>/`."""


class ColumnType(StrEnum):
    STRING = "string"
    INT32 = "int32"
    INT64 = "int64"
    BOOL = "bool"
    DATE = "date"
    TIMESTAMP = "timestamp"
    """UTC, microseconds."""
    STRINGS = "list<string>"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType
    meaning: str
    nullable: bool = False


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    meaning: str
    columns: tuple[Column, ...]
    partition: str = "date"
    """The Hive partition column: a DATE column of the contract, held by each file's path
    (`date=YYYY-MM-DD/`) rather than in the file (readers with Hive partitioning see it)."""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


PSEUDONYM = Column(
    "pseudonym", ColumnType.STRING,
    "the person: HMAC-SHA256 of their uid under their own secret (hex); erasure destroys the "
    "secret, so no one can link it again",
)  # fmt: skip
RECORD = Column(
    "record", ColumnType.STRING,
    "the record: HMAC-SHA256 of its id under the same secret (hex); its versions share it",
)  # fmt: skip
CHANGE = Column(
    "change", ColumnType.INT64,
    "commit order of this version (larger is later): keep each record's largest",
)  # fmt: skip
DELETED = Column("deleted", ColumnType.BOOL, "this version deletes the record")


def _updated_on(what: str) -> Column:
    return Column("date", ColumnType.DATE, f"the UTC day this version of the {what} was written")


USERS = Dataset(
    "users",
    "one row per version of a person's profile (the people who allow analytics only)",
    (
        PSEUDONYM,
        CHANGE,
        Column("signup_week", ColumnType.DATE, "Monday (UTC) of the week the account was made"),
        Column("platforms", ColumnType.STRINGS, "platforms of the person's current devices, "
               "sorted (ios, android)"),
        Column("locale", ColumnType.STRING, "app language and region as set (e.g. en-GB)",
               nullable=True),
        Column("country", ColumnType.STRING, "the locale's region (ISO 3166 alpha-2), upper "
               "case", nullable=True),
        Column("utc_offset_hours", ColumnType.INT32, "the person's timezone offset from UTC when "
               "this version was written, whole hours (rounded towards zero)"),
        Column("consent_ai", ColumnType.BOOL, "allows AI features"),
        Column("goal_minutes", ColumnType.INT32, "daily focus goal, minutes"),
        _updated_on("profile"),
    ),
)  # fmt: skip

DEVICES = Dataset(
    "devices",
    "one row per version of an installation of the app",
    (
        PSEUDONYM,
        RECORD,
        CHANGE,
        DELETED,
        Column("platform", ColumnType.STRING, "ios or android"),
        Column("app_version", ColumnType.STRING, "the app's version (semver)"),
        Column("os_version", ColumnType.STRING, "the OS version as reported", nullable=True),
        _updated_on("installation"),
    ),
)  # fmt: skip

FOCUS_SESSIONS = Dataset(
    "focus_sessions",
    "one row per version of a focus session",
    (
        PSEUDONYM,
        RECORD,
        CHANGE,
        DELETED,
        Column("date", ColumnType.DATE, "the local day the session started (the person's "
               "timezone then)"),
        Column("local_start_hour", ColumnType.INT32, "local hour it started, 0-23"),
        Column("planned_minutes", ColumnType.INT32, "length asked for, whole minutes"),
        Column("actual_minutes", ColumnType.INT32, "length until it ended, whole minutes; "
               "empty while running", nullable=True),
        Column("mode", ColumnType.STRING, "the session's mode: normal, or hard (cannot be "
               "stopped early)"),
        Column("outcome", ColumnType.STRING, "how it ended: completed or abandoned; empty "
               "while running", nullable=True),
    ),
)  # fmt: skip

SCHEDULES = Dataset(
    "schedules",
    "one row per version of a blocking schedule",
    (
        PSEUDONYM,
        RECORD,
        CHANGE,
        DELETED,
        Column("days", ColumnType.STRINGS, "weekdays it runs on (mon … sun), in week order"),
        Column("window_minutes", ColumnType.INT32, "length of its daily window, minutes (a "
               "window past midnight counts to its end)"),
        Column("strictness", ColumnType.STRING, "how hard it is to stop"),
        Column("enabled", ColumnType.BOOL, "switched on"),
        Column("created_on", ColumnType.DATE, "the UTC day it was made"),
        _updated_on("schedule"),
    ),
)  # fmt: skip

DAILY_USAGE = Dataset(
    "daily_usage",
    "one row per version of a device's screen-time day (totals only: no apps, no categories)",
    (
        PSEUDONYM,
        RECORD,
        CHANGE,
        Column("date", ColumnType.DATE, "the local day the totals are for"),
        Column("total_minutes", ColumnType.INT32, "screen time that day, minutes"),
        Column("pickups", ColumnType.INT32, "times the device was picked up that day"),
    ),
)  # fmt: skip

EVENTS = Dataset(
    "events",
    "one row per domain event (docs/events.md), its type and hour only",
    (
        PSEUDONYM,
        CHANGE,
        Column("type", ColumnType.STRING, "the event's type (docs/events.md), e.g. "
               "focus_session.completed"),
        Column("hour", ColumnType.TIMESTAMP, "the UTC hour it happened (truncated)"),
        Column("date", ColumnType.DATE, "the UTC day it happened"),
    ),
)  # fmt: skip

DATASETS: tuple[Dataset, ...] = (USERS, DEVICES, FOCUS_SESSIONS, SCHEDULES, DAILY_USAGE, EVENTS)
BY_NAME = {d.name: d for d in DATASETS}

FORBIDDEN_COLUMNS = frozenset(
    {"uid", "user_id", "email", "name", "display_name", "installation_id", "push_token",
     "items", "top_apps", "minutes_per_category", "blocklist_id", "payload", "timezone", "id"}
)  # fmt: skip
"""Names of what never leaves: a test checks no dataset has them."""
