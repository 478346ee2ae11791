"""Delta sync: every record of a user that changed after a version the client has seen.

Every write of a user takes the next number of the user's change counter and stores it as
the record's `version`; a delete keeps the row as a tombstone with a version of its own. So
"what changed since I last synced" is "every record of mine with a version above the
highest one I have seen", and that number is the whole cursor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from domain.ai.insights import AiInsight
from domain.blocklists.model import Blocklist
from domain.devices.model import Device
from domain.focus_sessions.model import FocusSession
from domain.schedules.model import Schedule
from domain.usage.model import UsageReport
from domain.users.model import User

START = -1
"""Before every version: a profile nobody edited yet has version 0 and must still be sent."""

Entity = User | Device | Blocklist | Schedule | FocusSession | UsageReport | AiInsight
"""What a change carries: the record as the area's own reads return it."""


class EntityType(StrEnum):
    PROFILE = "profile"
    DEVICE = "device"
    BLOCKLIST = "blocklist"
    SCHEDULE = "schedule"
    FOCUS_SESSION = "focus_session"
    USAGE_REPORT = "usage_report"
    INSIGHT = "insight"


OPT_IN = frozenset({EntityType.INSIGHT})
"""Types a client gets only when it asks for them (`include`): app versions released before a
type existed would fail to read it."""


@dataclass(frozen=True, slots=True)
class Change:
    """A record's state at `version`; `entity` is None when the record was deleted."""

    type: EntityType
    id: str
    version: int
    entity: Entity | None

    @property
    def deleted(self) -> bool:
        return self.entity is None


def usage_report_id(day: dt.date, installation_id: str) -> str:
    """`2026-11-23/<installation_id>`: the date has a fixed length, so this splits back."""
    return f"{day.isoformat()}/{installation_id}"


def order(change: Change) -> tuple[int, str, str]:
    """Changes go out by version; ties (one write touching several records) in a fixed order."""
    return change.version, change.type.value, change.id


@dataclass(frozen=True, slots=True)
class ChangePage:
    changes: list[Change]
    last_version: int
    """The cursor to continue from: the version of the last change sent, or the one given."""
    has_more: bool
