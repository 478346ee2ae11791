"""The Firestore side of the store: the repositories over one client, handed out together.

The dual-write unit of work (a later step) composes it with Postgres; nothing here commits:
every call writes at once, as Firestore without a transaction does.
"""

from __future__ import annotations

from collections import Counter

from google.cloud.firestore import AsyncClient

from domain.blocklists.ports import BlocklistRepository
from domain.common import Clock, utc_now
from domain.devices.ports import DeviceRepository
from domain.focus_sessions.ports import FocusSessionRepository
from domain.schedules.ports import ScheduleRepository
from domain.usage.ports import UsageReportRepository
from domain.users.ports import UserRepository
from migration.firestore.repositories.blocklists import FirestoreBlocklistRepository
from migration.firestore.repositories.common import Documents
from migration.firestore.repositories.devices import FirestoreDeviceRepository
from migration.firestore.repositories.focus_sessions import FirestoreFocusSessionRepository
from migration.firestore.repositories.schedules import FirestoreScheduleRepository
from migration.firestore.repositories.usage import FirestoreUsageReportRepository
from migration.firestore.repositories.users import FirestoreUserRepository


class FirestoreStore:
    def __init__(self, client: AsyncClient, *, clock: Clock = utc_now) -> None:
        self.skipped: Counter[str] = Counter()
        """Documents reads left out as unmappable, by `collection:reason`."""
        self.documents = documents = Documents(client, clock, self.skipped)
        self.users: UserRepository = FirestoreUserRepository(documents)
        self.devices: DeviceRepository = FirestoreDeviceRepository(documents)
        self.blocklists: BlocklistRepository = FirestoreBlocklistRepository(documents)
        self.schedules: ScheduleRepository = FirestoreScheduleRepository(documents)
        self.focus_sessions: FocusSessionRepository = FirestoreFocusSessionRepository(documents)
        self.usage: UsageReportRepository = FirestoreUsageReportRepository(documents)
