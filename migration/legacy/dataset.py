"""Clean legacy documents, as the Firebase app wrote them when it kept to its own layout.

Everything comes from `random.Random` streams named by the seed and the user's index, and
every instant from `EPOCH`: the same seed gives the same users, ids and values on any machine,
and user 7 is the same whether 10 or 10,000 users are generated.
"""

from __future__ import annotations

import base64
import datetime as dt
import string
from dataclasses import dataclass
from random import Random
from typing import Any
from uuid import UUID

from domain.blocklists.model import Category
from domain.schedules.model import Weekday
from domain.usage.model import UsageCategory
from migration.legacy.layout import (
    BLOCKLISTS,
    DEVICES,
    SCHEDULES,
    SESSIONS,
    USAGE,
    USERS,
    usage_doc_id,
)

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
"""The dataset's "now": every instant lies before it (a running session started just before)."""

AUTO_ID_ALPHABET = string.ascii_letters + string.digits
FID_ALPHABET = AUTO_ID_ALPHABET + "-_"
TIMEZONES = (
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "UTC",
)
LOCALES = ("en-US", "en_GB", "de-DE", "ja-JP", "pt-BR")
NAMES = ("Alex", "Sam", "Kim", "Noor", "Jo", "Mika", "Ren", "Lee")
ANDROID_PACKAGES = (
    "com.instagram.android",
    "com.zhiliaoapp.musically",
    "com.twitter.android",
    "com.reddit.frontpage",
    "com.google.android.youtube",
    "com.netflix.mediaclient",
)
SITES = ("youtube.com", "reddit.com", "news.ycombinator.com", "Twitter.com", "www.bücher.de")
BLOCKLIST_NAMES = ("Social", "Work distractions", "Games", "News", "Evening")
SCHEDULE_NAMES = ("Work", "Evenings", "Sleep", "Study", "Weekend")
PLANNED_MINUTES = (15, 25, 30, 45, 50, 60, 90)


@dataclass(frozen=True, slots=True)
class Ref:
    """A DocumentReference by its path, until the writer turns it into one."""

    path: str


@dataclass(slots=True)
class LegacyDocument:
    path: str
    data: dict[str, Any]

    @property
    def collection(self) -> str:
        return self.path.split("/")[-2]

    @property
    def uid(self) -> str:
        return self.path.split("/")[1]


def auto_id(rng: Random, length: int = 20, alphabet: str = AUTO_ID_ALPHABET) -> str:
    """Shaped like Firestore's auto-ids (20 alphanumerics), drawn from `rng`."""
    return "".join(rng.choice(alphabet) for _ in range(length))


def user_documents(seed: int, index: int, *, orphan: bool = False) -> list[LegacyDocument]:
    """User `index`'s documents: the profile first, then its subcollections. An orphan's
    profile is left out, as when the old account-deletion function removed only that."""
    kind = "orphan" if orphan else "user"
    rng = Random(f"{seed}:{kind}:{index}")  # noqa: S311 (test data: reproducible, not secret)
    return _User(rng, orphan=orphan).documents()


class _User:
    def __init__(self, rng: Random, *, orphan: bool) -> None:
        self.rng = rng
        self.orphan = orphan
        self.uid = auto_id(rng, 28)
        self.timezone = rng.choice(TIMEZONES)
        self.created = self.instant(EPOCH - dt.timedelta(days=3 * 365), EPOCH)
        self.created = min(self.created, EPOCH - dt.timedelta(days=30))
        self.blocklists: list[str] = []
        self.devices: list[tuple[str, str]] = []  # (installation id, platform)

    def documents(self) -> list[LegacyDocument]:
        rng = self.rng
        low = 1 if self.orphan else 0  # an orphan is only an orphan with something under it
        docs = [] if self.orphan else [self.profile()]
        docs += [self.device() for _ in range(rng.randint(low, 4))]
        docs += [self.blocklist() for _ in range(rng.randint(low, 5))]
        docs += [self.schedule() for _ in range(rng.randint(0, 4) if self.blocklists else 0)]
        docs += self.sessions(rng.randint(low, 40))
        days = rng.sample(range(1, 31), rng.randint(low, 14)) if self.devices else []
        docs += [self.usage(EPOCH.date() - dt.timedelta(days=d)) for d in sorted(days)]
        return docs

    def instant(self, earliest: dt.datetime, latest: dt.datetime) -> dt.datetime:
        """Millisecond precision, as the apps' clocks: epoch millis then convert exactly."""
        span = (latest - earliest) // dt.timedelta(milliseconds=1)
        return earliest + dt.timedelta(milliseconds=self.rng.randint(0, max(span, 0)))

    def stamps(self, earliest: dt.datetime | None = None) -> dict[str, Any]:
        created = self.instant(earliest or self.created, EPOCH - dt.timedelta(days=1))
        return {"createdAt": created, "updatedAt": self.instant(created, EPOCH)}

    def doc(self, collection: str, doc_id: str, data: dict[str, Any]) -> LegacyDocument:
        return LegacyDocument(f"{USERS}/{self.uid}/{collection}/{doc_id}", data)

    def profile(self) -> LegacyDocument:
        rng = self.rng
        quiet = {"start": "22:00", "end": "07:00"} if rng.random() < 0.3 else None
        data = {
            "displayName": rng.choice((*NAMES, None)),
            "timezone": self.timezone,
            "locale": rng.choice(LOCALES),
            "dailyGoalMinutes": rng.choice((30, 45, 60, 90, 120)),
            "notifications": {"enabled": rng.random() < 0.8, "quietHours": quiet},
            "consents": {"ai": rng.random() < 0.3, "analytics": rng.random() < 0.6},
            "createdAt": self.created,
            "updatedAt": self.instant(self.created, EPOCH),
        }
        return LegacyDocument(f"{USERS}/{self.uid}", data)

    def device(self) -> LegacyDocument:
        rng = self.rng
        platform = rng.choice(("ios", "android"))
        data: dict[str, Any] = {"platform": platform}
        if platform == "ios":
            installation_id = str(UUID(int=rng.getrandbits(128), version=4)).upper()
            token = rng.randbytes(32).hex() if rng.random() < 0.8 else None
            data |= {"pushToken": token, "osVersion": f"{rng.randint(15, 18)}.{rng.randint(0, 5)}"}
            if token is not None:
                data["apnsEnvironment"] = rng.choice(("production", "production", "sandbox"))
        else:
            installation_id = auto_id(rng, 22, FID_ALPHABET)
            token = f"{installation_id}:APA91b{auto_id(rng, 134, FID_ALPHABET)}"
            data |= {"pushToken": token if rng.random() < 0.8 else None}
            data["osVersion"] = str(rng.randint(10, 15))
        self.devices.append((installation_id, platform))
        stamps = self.stamps()
        data |= {
            "appVersion": f"{rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}",
            "timezone": self.timezone,
            "lastSeenAt": stamps["updatedAt"],
            **stamps,
        }
        return self.doc(DEVICES, installation_id, data)

    def app_token(self, platform: str) -> str:
        if platform == "android":
            return self.rng.choice(ANDROID_PACKAGES)
        return base64.b64encode(self.rng.randbytes(48)).decode()

    def blocklist(self) -> LegacyDocument:
        rng = self.rng
        doc_id = auto_id(rng)
        self.blocklists.append(doc_id)
        platforms = [platform for _, platform in self.devices] or ["ios"]
        apps = [self.app_token(rng.choice(platforms)) for _ in range(rng.randint(0, 6))]
        data = {
            "name": rng.choice(BLOCKLIST_NAMES),
            "apps": apps,
            "sites": rng.sample(SITES, rng.randint(0, 3)),
            "categories": rng.sample([c.value for c in Category], rng.randint(0, 2)),
            **self.stamps(),
        }
        return self.doc(BLOCKLISTS, doc_id, data)

    def schedule(self) -> LegacyDocument:
        rng = self.rng
        days = set(rng.sample(list(Weekday), rng.randint(1, 7)))
        start = rng.randrange(0, 24 * 60, 15)
        end = (start + rng.randrange(30, 12 * 60, 15)) % (24 * 60)
        stamps = self.stamps()
        paused = rng.random() < 0.1
        data = {
            "name": rng.choice(SCHEDULE_NAMES),
            "days": [d.value for d in Weekday if d in days],
            "startTime": f"{start // 60:02d}:{start % 60:02d}",
            "endTime": f"{end // 60:02d}:{end % 60:02d}",
            "timezone": self.timezone,
            "blocklist": Ref(f"{USERS}/{self.uid}/{BLOCKLISTS}/{rng.choice(self.blocklists)}"),
            "hardMode": rng.random() < 0.2,
            "enabled": rng.random() < 0.85,
            "pausedUntil": EPOCH + dt.timedelta(days=rng.randint(1, 5)) if paused else None,
            **stamps,
        }
        return self.doc(SCHEDULES, auto_id(rng), data)

    def sessions(self, count: int) -> list[LegacyDocument]:
        rng = self.rng
        earliest = max(self.created, EPOCH - dt.timedelta(days=365))
        starts = sorted(
            self.instant(earliest, EPOCH - dt.timedelta(hours=13)) for _ in range(count)
        )
        docs = [self.session(started) for started in starts]
        if docs and rng.random() < 0.2:  # the newest one is still running as the dataset ends
            docs[-1] = self.session(EPOCH - dt.timedelta(minutes=rng.randint(1, 14)), running=True)
        return docs

    def session(self, started: dt.datetime, *, running: bool = False) -> LegacyDocument:
        rng = self.rng
        planned = rng.choice(PLANNED_MINUTES)
        hard = rng.random() < 0.2
        completed = hard or rng.random() < 0.7
        ran = planned * 60 + rng.randint(0, 20) if completed else rng.randint(60, planned * 60)
        ended = None if running else started + dt.timedelta(seconds=ran)
        data: dict[str, Any] = {
            "startedAt": started,
            "plannedMinutes": planned,
            "status": "running" if running else ("completed" if completed else "abandoned"),
            "endedAt": ended,
            "hardMode": hard,
            "timezone": self.timezone,
            "createdAt": started,
            "updatedAt": ended or started,
        }
        if self.blocklists and rng.random() < 0.6:
            path = f"{USERS}/{self.uid}/{BLOCKLISTS}/{rng.choice(self.blocklists)}"
            data["blocklist"] = Ref(path)
        return self.doc(SESSIONS, auto_id(rng), data)

    def usage(self, day: dt.date) -> LegacyDocument:
        rng = self.rng
        installation_id, platform = rng.choice(self.devices)
        total = rng.randint(20, 600)
        categories = rng.sample([c.value for c in UsageCategory], rng.randint(0, 4))
        apps = {self.app_token(platform): rng.randint(1, total // 6) for _ in range(5)}
        day_end = dt.datetime.combine(day, dt.time(23, 59), dt.UTC)
        data = {
            "totalMinutes": total,
            "pickups": rng.randint(5, 250),
            "categories": {name: rng.randint(0, total // 5) for name in categories},
            "topApps": [{"token": token, "minutes": minutes} for token, minutes in apps.items()],
            "createdAt": day_end,
            "updatedAt": min(day_end + dt.timedelta(minutes=rng.randint(0, 600)), EPOCH),
        }
        return self.doc(USAGE, usage_doc_id(day, installation_id), data)
