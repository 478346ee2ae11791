"""Use cases of data-subject requests: open one (from the app, or staff on someone's behalf),
verify, approve, refuse, extend, cancel. Each runs in one transaction with its audit entry, and
a request ready to run is handed to the runner through the task queue.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from uuid import UUID

from domain.common import Clock, new_id
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.events import EventType
from domain.files import FileStore
from domain.privacy import model
from domain.privacy.audit import first_break
from domain.privacy.figures import MonthFigures, RequestFigures, month_starts, months_back
from domain.privacy.model import (
    SUBJECT,
    Channel,
    Extension,
    PrivacyRequest,
    RequestKind,
    RequestState,
    Verification,
)
from domain.privacy.ports import AuditEntry, Download, Opened, PrivacyStore, RequestFilter
from domain.privacy.steps import Step, plan
from domain.tasks import Task, TaskScheduler
from privacy.exports import archive_key

RUN_TASK = "privacy.run"
"""The task that runs a request's next step."""
RECENT_SIGN_IN = "recent_sign_in"
DOWNLOAD_LINK_LIFETIME = timedelta(days=7)
"""A download link's life for the app: the longest a signed URL may have."""
EXPORT_AGAIN_AFTER = timedelta(days=1)
"""How soon the app may ask for a new archive; before, it gets the last one back."""
FIGURES_MONTHS = 12
"""How many months of requests the figures cover, this one included."""
OPEN_LIMIT = 100_000
"""The most open requests the figures read (far above any real backlog)."""


@dataclass(frozen=True, slots=True)
class SubjectHasher:
    """The keyed hash that names a subject wherever the uid may not appear (audit, metrics)."""

    key: bytes

    def __call__(self, uid: str) -> str:
        return hmac.new(self.key, uid.encode(), hashlib.sha256).hexdigest()


class PrivacyRequests:
    """The request side of privacy: what the app's routes, the CLI and the console call."""

    def __init__(
        self,
        store: Callable[[], PrivacyStore],
        tasks: TaskScheduler,
        hasher: SubjectHasher,
        clock: Clock,
        files: FileStore | None = None,
    ) -> None:
        self._store = store
        self._tasks = tasks
        self._hash = hasher
        self._clock = clock
        self._files = files

    def subject_hash(self, uid: str) -> str:
        return self._hash(uid)

    def now(self) -> datetime:
        return self._clock()

    async def open(
        self,
        kind: RequestKind,
        uid: str,
        *,
        by: str,
        channel: Channel,
        received_at: datetime | None = None,
        verification: Verification | None = None,
        erase_list_now: bool = False,
    ) -> Opened:
        """A new request, or the subject's open one of the same kind (joined, audited)."""
        now = self._clock()
        received = received_at or now
        if received > now + timedelta(minutes=5):
            raise ValidationFailed.on("received_at", "in_future", "a request is not received later")
        if by == SUBJECT and channel is not Channel.APP:
            raise ValidationFailed.on("channel", "invalid", "the subject asks through the app")
        subject = self._hash(uid)
        async with self._store() as store:
            existing = await store.open_request(subject, kind)
            if existing is None and kind is RequestKind.EXPORT and by == SUBJECT:
                existing = await self._recent_export(store, subject, now)
            if existing is not None:
                await store.audit(self._entry(by, "joined", existing, now))
                if kind is RequestKind.ERASURE and (by == SUBJECT or erase_list_now):
                    await store.erase_list_add(uid, now)
                await store.commit()
                await self._run_when_ready(existing)
                return Opened(existing, joined=True)
            request = PrivacyRequest(
                id=new_id(),
                kind=kind,
                subject_uid=uid,
                subject_hash=subject,
                channel=channel,
                state=RequestState.RECEIVED,
                received_at=received,
                created_by=by,
            )
            if verification is not None:
                request = model.verify(request, verification)
            try:
                await store.add(request, plan(request.id, kind))
            except Conflict:  # the same request, arrived at the same moment: join it
                joined = await store.open_request(subject, kind)
                assert joined is not None, "the conflicting request is committed"
                await store.audit(self._entry(by, "joined", joined, now))
                await store.commit()
                return Opened(joined, joined=True)
            await store.audit(self._entry(by, "received", request, now))
            if verification is not None:
                await store.audit(
                    self._entry(
                        by, "verified", request, now, detail={"method": verification.method}
                    )
                )
            if kind is RequestKind.ERASURE and (by == SUBJECT or erase_list_now):
                # The account stops working at once: writes refuse an erased uid from here on.
                await store.erase_list_add(uid, now)
            await store.commit()
        await self._run_when_ready(request)
        return Opened(request, joined=False)

    @staticmethod
    async def _recent_export(
        store: PrivacyStore, subject: str, now: datetime
    ) -> PrivacyRequest | None:
        """The subject's export completed within `EXPORT_AGAIN_AFTER`: a repeated request from
        the app gets it back rather than a new archive (Art. 12(5): repetitive requests)."""
        where = RequestFilter(
            kinds=(RequestKind.EXPORT,), states=(RequestState.COMPLETED,), subject_hash=subject
        )
        done = [r for r in await store.find(where) if r.finished_at is not None]
        latest = max(done, key=lambda r: r.finished_at or now, default=None)
        if (
            latest is not None
            and latest.finished_at
            and now - latest.finished_at < EXPORT_AGAIN_AFTER
        ):
            return latest
        return None

    async def open_from_app(self, kind: RequestKind, uid: str) -> Opened:
        verification = Verification(RECENT_SIGN_IN, SUBJECT, self._clock())
        return await self.open(
            kind, uid, by=SUBJECT, channel=Channel.APP, verification=verification
        )

    async def of_subject(self, request_id: UUID, uid: str) -> PrivacyRequest:
        found = await self.get(request_id)
        if not hmac.compare_digest(found.subject_hash, self._hash(uid)):
            raise NotFound(detail="no such request")
        return found

    async def download(
        self, request: PrivacyRequest, expires_in: timedelta = DOWNLOAD_LINK_LIFETIME
    ) -> Download | None:
        if request.kind is not RequestKind.EXPORT or request.state is not RequestState.COMPLETED:
            return None
        key = archive_key(request.id)
        if self._files is None or not await self._files.exists(key):
            return None  # deleted after its 30 days
        url = await self._files.signed_url(key, expires_in)
        return Download(url, self._clock() + expires_in)

    async def get(self, request_id: UUID) -> PrivacyRequest:
        async with self._store() as store:
            found = await store.get(request_id)
        if found is None:
            raise NotFound(detail="no such request")
        return found

    async def resume(self, request_id: UUID) -> PrivacyRequest:
        """Queues a run of the request's remaining steps (a stuck request, a failing store
        fixed): a task of its own, unnamed, beside any retry the queue already holds (two runs
        at once do each step's idempotent work twice, no harm)."""
        request = await self.get(request_id)
        if request.state is not RequestState.RUNNING:
            model.start(request)  # refuses a request not ready to run, saying what it needs
        now = self._clock()
        await self._tasks.schedule(Task(RUN_TASK, {"request_id": str(request_id)}, run_at=now))
        return request

    async def find(self, where: RequestFilter) -> Sequence[PrivacyRequest]:
        async with self._store() as store:
            return await store.find(where)

    async def figures(self, months: int = FIGURES_MONTHS) -> RequestFigures:
        """Requests received over the last `months` months, and the open ones now."""
        now = self._clock()
        since = months_back(now, months)
        start = datetime.combine(since, time(), tzinfo=UTC)
        open_states = [s for s in RequestState if s.open]
        async with self._store() as store:
            found, completion = await store.figures(start)
            still_open = await store.find(RequestFilter(states=open_states, limit=OPEN_LIMIT))
        by_month = {m.month: m for m in found}
        return RequestFigures(
            since=since,
            months=[
                by_month.get(month) or MonthFigures(month, 0, 0, 0, None, None)
                for month in month_starts(since, now)
            ],
            completion=completion,
            open=len(still_open),
            at_risk=sum(r.at_risk(now) for r in still_open),
            overdue=sum(r.overdue(now) for r in still_open),
        )

    async def steps(self, request_id: UUID) -> Sequence[Step]:
        async with self._store() as store:
            return await store.steps(request_id)

    async def audit_trail_intact(self) -> int | None:
        """None when every audit entry follows from the one before; else the first broken one."""
        async with self._store() as store:
            return first_break(await store.audit_trail())

    async def verify(self, request_id: UUID, method: str, *, by: str) -> PrivacyRequest:
        verification = Verification(method, by, self._clock())
        return await self._transition(
            request_id, by, "verified", lambda r: model.verify(r, verification), {"method": method}
        )

    async def approve(self, request_id: UUID, *, by: str) -> PrivacyRequest:
        return await self._transition(request_id, by, "approved", lambda r: model.approve(r, by))

    async def refuse(self, request_id: UUID, reason: str, *, by: str) -> PrivacyRequest:
        now = self._clock()
        return await self._transition(
            request_id, by, "refused", lambda r: model.refuse(r, reason, now)
        )

    async def cancel(self, request_id: UUID, reason: str, *, by: str) -> PrivacyRequest:
        now = self._clock()
        return await self._transition(
            request_id, by, "cancelled", lambda r: model.cancel(r, reason, now)
        )

    async def extend(
        self, request_id: UUID, months: int, reason: str, *, by: str
    ) -> PrivacyRequest:
        extension = Extension(months, reason, by, self._clock())
        return await self._transition(
            request_id, by, "extended", lambda r: model.extend(r, extension), {"months": months}
        )  # the subject is told (Art. 12(3)): by the app's silent push when they asked there

    async def _transition(
        self,
        request_id: UUID,
        by: str,
        action: str,
        change: Callable[[PrivacyRequest], PrivacyRequest],
        detail: dict[str, int | str] | None = None,
    ) -> PrivacyRequest:
        now = self._clock()
        async with self._store() as store:
            current = await store.get(request_id, lock=True)
            if current is None:
                raise NotFound(detail="no such request")
            changed = replace(change(current), version=current.version + 1)
            await store.save(changed)
            await store.audit(self._entry(by, action, changed, now, detail=detail))
            if changed.extensions != current.extensions and changed.from_app:
                await store.announce(changed, EventType.PRIVACY_REQUEST_EXTENDED, now)
            await store.commit()
        await self._run_when_ready(changed)
        return changed

    async def _run_when_ready(self, request: PrivacyRequest) -> None:
        ready = RequestState.APPROVED if request.needs_approval else RequestState.VERIFIED
        if request.state in (ready, RequestState.RUNNING):
            await schedule_run(self._tasks, request.id, 0, self._clock())

    @staticmethod
    def _entry(
        actor: str,
        action: str,
        request: PrivacyRequest,
        at: datetime,
        *,
        detail: dict[str, int | str] | None = None,
    ) -> AuditEntry:
        return AuditEntry(
            actor=actor,
            action=action,
            request_id=request.id,
            subject_hash=request.subject_hash,
            at=at,
            detail={"kind": request.kind.value, "state": request.state.value, **(detail or {})},
        )


async def schedule_run(
    tasks: TaskScheduler, request_id: UUID, position: int, now: datetime
) -> None:
    """The runner's task for the step at `position`; named, so a second one is dropped."""
    await tasks.schedule(
        Task(
            RUN_TASK,
            {"request_id": str(request_id)},
            run_at=now,
            name=f"privacy-{request_id.hex}-{position}",
        )
    )
