"""Runs a request's steps, one task per step, on the task queue (the Postgres queue on the
embedded default, Cloud Tasks in production).

Each run takes the request's first pending step, does its work, marks it done, and schedules
the next; the last one completes the request. A worker killed at any point leaves the step
pending, and the task queue runs it again: every step is idempotent (erasure finds nothing
left; an export part is written again whole). A failure is recorded on the step (its class,
never a value) and raised, so that the queue retries it with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any
from uuid import UUID

from domain.common import Clock
from domain.events import EventType
from domain.files import FileStore
from domain.privacy import model
from domain.privacy.model import PrivacyRequest, RequestKind, RequestState
from domain.privacy.ports import AuditEntry, PersonalData, PrivacyStore
from domain.privacy.steps import ARCHIVE, DERIVED, ERASED_LIST, SCAN, Step, StepState, entries_for
from domain.tasks import TaskScheduler
from domain.user_data import REGISTRY, DataStore, Erasure
from privacy.exports import ExportWriter
from privacy.requests import schedule_run
from privacy.restore import mark_key

log = logging.getLogger("focus.privacy")
AS_OF = "as_of_change"
"""An export part's detail: the user's change counter when it was read."""
SYSTEM = "system"
_ENTRIES = {entry.name: entry for entry in REGISTRY}


class ScanFoundData(RuntimeError):
    """The verification scan found the subject's data after erasure (counts in the step)."""

    def __init__(self, counts: dict[str, int]) -> None:
        left = sorted(name for name, found in counts.items() if found)
        super().__init__(f"{sum(counts.values())} records left in {left}")
        self.counts = counts


class PartsStale(Exception):
    """The user changed something after some export parts were read: they are read again."""


MAX_REREADS = 3
"""How often the archive sends stale parts back before it zips what it has (a user writing
all the while would otherwise hold their export back for ever)."""


class StoreUnavailable(RuntimeError):
    """A step needs a store this process was not given (a wiring mistake in production)."""


class PrivacyRunner:
    def __init__(
        self,
        store: Callable[[], PrivacyStore],
        data: Mapping[DataStore, PersonalData],
        files: FileStore,
        tasks: TaskScheduler,
        clock: Clock,
        *,
        optional: frozenset[DataStore] = frozenset(),
        revoke_sessions: Callable[[str], Awaitable[object]] | None = None,
        derived: Callable[[str], Awaitable[Mapping[str, Any] | None]] | None = None,
    ) -> None:
        """`optional`: stores this deployment does not have (no legacy Firestore, no Firebase
        project on the embedded default): their steps are done with nothing to do.
        `revoke_sessions`: ends the subject's sign-in sessions when erasure starts (the account
        itself is deleted last)."""
        self._store = store
        self._data = data
        self._files = files
        self._exports = ExportWriter(files)
        self._tasks = tasks
        self._clock = clock
        self._optional = optional
        self._revoke = revoke_sessions
        self._derived = derived

    async def __call__(self, payload: Mapping[str, Any]) -> None:
        await self.run_next(UUID(str(payload["request_id"])))

    async def run_next(self, request_id: UUID) -> bool:
        """Runs the request's next step; False when there is nothing (left) to run."""
        started = await self._start(request_id)
        if started is None:
            return False
        request, step = started
        if step is None:
            await self._complete(request)
            return False
        try:
            count, detail = await self._run(request, step)
        except PartsStale:
            await schedule_run(self._tasks, request.id, step.position, self._clock())
            return True
        except Exception as exc:
            await self._failed(request, step, exc)
            raise
        await self._done(request, step, count, detail)
        await schedule_run(self._tasks, request.id, step.position + 1, self._clock())
        return True

    async def run_all(self, request_id: UUID) -> None:
        """Every remaining step now, in this process (the CLI, tests)."""
        while await self.run_next(request_id):
            pass

    async def _start(self, request_id: UUID) -> tuple[PrivacyRequest, Step | None] | None:
        async with self._store() as store:
            request = await store.get(request_id, lock=True)
            if request is None or not request.state.open:
                return None
            if request.state is not RequestState.RUNNING:
                try:
                    running = model.start(request)
                except Exception:
                    return None  # not ready (waiting for verification or approval)
                request = replace(running, version=request.version + 1)
                await store.save(request)
                await store.audit(_entry("started", request, self._clock()))
            steps = await store.steps(request_id)
            await store.commit()
        pending = next((s for s in steps if s.state is StepState.PENDING), None)
        return request, pending

    async def _run(self, request: PrivacyRequest, step: Step) -> tuple[int, dict[str, int]]:
        uid = request.subject_uid
        assert uid is not None, "an open request keeps its subject"
        if step.name == ERASED_LIST:
            async with self._store() as store:
                await store.erase_list_add(uid, self._clock())
                await store.commit()
            # Outside the database too: a restore of an older dump must not bring them back.
            await self._files.put(mark_key(request.subject_hash), b"", "text/plain")
            if self._revoke is not None:
                await self._revoke(uid)
            return 1, {}
        if step.name == SCAN:
            return await self._scan(uid)
        if step.name == DERIVED:
            document = await self._derived(uid) if self._derived is not None else None
            if document is None:
                return 0, {}
            await self._exports.write_document(request.id, DERIVED, document)
            return 1, {}
        if step.name == ARCHIVE:
            await self._reread_stale_parts(request, step, uid)
            archive = await self._exports.archive(request, self._clock())
            return archive.files, {"bytes": archive.size}
        entry = _ENTRIES[step.name]
        data = self._data.get(entry.store)
        if data is None:
            if entry.store in self._optional:
                return 0, {"not_in_this_deployment": 1}
            raise StoreUnavailable(entry.store.value)
        if request.kind is RequestKind.EXPORT:
            as_of = await self._counter(uid)
            written = await self._exports.write_part(request.id, entry, data.read(entry, uid))
            return written, {AS_OF: as_of}
        return await data.erase(entry, uid), {}

    async def _counter(self, uid: str) -> int:
        async with self._store() as store:
            return await store.change_counter(uid)

    async def _reread_stale_parts(self, request: PrivacyRequest, archive: Step, uid: str) -> None:
        """Parts read before the user's last change go back to pending (and the archive waits),
        so that a resumed export misses nothing written meanwhile."""
        now = await self._counter(uid)
        async with self._store() as store:
            steps = await store.steps(request.id)
            stale = [
                s
                for s in steps
                if s.state is StepState.DONE and s.detail and s.detail.get(AS_OF, now) != now
            ]
            if not stale or archive.attempts >= MAX_REREADS:
                return
            for part in stale:
                await store.save_step(replace(part, state=StepState.PENDING, done_at=None))
            await store.save_step(replace(archive, attempts=archive.attempts + 1))
            await store.audit(
                _entry("parts_reread", request, self._clock(), archive, {"parts": len(stale)})
            )
            await store.commit()
        raise PartsStale

    async def dry_run(self, request_id: UUID) -> dict[str, int | None]:
        """What the request's steps would touch now, kind by kind (records each store holds for
        the subject; None where this deployment has no such store), touching nothing: what
        staff read before approving an erasure."""
        async with self._store() as store:
            request = await store.get(request_id)
        if request is None or request.subject_uid is None:
            return {}
        counts: dict[str, int | None] = {}
        for entry in entries_for(request.kind):
            data = self._data.get(entry.store)
            counts[entry.name] = (
                None if data is None else await data.count(entry, request.subject_uid)
            )
        return counts

    async def _scan(self, uid: str) -> tuple[int, dict[str, int]]:
        """Every store searched for the subject; what a late write left is erased, then
        counted again: the report keeps the final counts, zero expected everywhere."""
        counts: dict[str, int] = {}
        for entry in entries_for(RequestKind.ERASURE):
            data = self._data.get(entry.store)
            if data is None:
                continue
            found = await data.count(entry, uid)
            if found:
                log.warning("privacy scan found leftovers", extra={"kind": entry.name})
                await data.erase(entry, uid)
                found = await data.count(entry, uid)
            counts[entry.name] = found
        if any(counts.values()):
            raise ScanFoundData(counts)
        return 0, counts

    async def _complete(self, request: PrivacyRequest) -> None:
        now = self._clock()
        async with self._store() as store:
            current = await store.get(request.id, lock=True)
            if current is None or current.state is not RequestState.RUNNING:
                return
            completed = replace(model.complete(current, now), version=current.version + 1)
            await store.save(completed)
            if completed.kind is RequestKind.ERASURE:
                for kept in (e for e in REGISTRY if e.erasure is Erasure.KEPT):
                    await store.audit(replace(
                        _entry("kept", completed, now), categories=(kept.name,),
                        exemption=kept.exemption,
                    ))  # fmt: skip
            await store.audit(_entry("completed", completed, now))
            if completed.kind is RequestKind.EXPORT:
                # A silent push: the archive is ready.
                await store.announce(completed, EventType.PRIVACY_EXPORT_READY, now)
            await store.commit()

    async def _done(
        self, request: PrivacyRequest, step: Step, count: int, detail: dict[str, int]
    ) -> None:
        now = self._clock()
        done = replace(
            step, state=StepState.DONE, count=count, detail=detail or None, error=None, done_at=now
        )
        async with self._store() as store:
            await store.save_step(done)
            await store.audit(_entry("step_done", request, now, step, {"count": count, **detail}))
            await store.commit()

    async def _failed(self, request: PrivacyRequest, step: Step, exc: Exception) -> None:
        error = type(exc).__name__
        now = self._clock()
        log.warning("privacy step failed", extra={"step": step.name, "error": error})
        failed = replace(step, attempts=step.attempts + 1, error=error)
        if isinstance(exc, ScanFoundData):
            failed = replace(failed, detail=exc.counts)  # where the leftovers are, for staff
        async with self._store() as store:
            await store.save_step(failed)
            await store.audit(_entry("step_failed", request, now, step, {"error": error}))
            await store.commit()


def _entry(
    action: str,
    request: PrivacyRequest,
    at: Any,
    step: Step | None = None,
    detail: Mapping[str, int | str] | None = None,
) -> AuditEntry:
    categories = (step.name,) if step is not None else ()
    return AuditEntry(
        actor=SYSTEM,
        action=action,
        request_id=request.id,
        subject_hash=request.subject_hash,
        at=at,
        categories=categories,
        detail={"kind": request.kind.value, **(detail or {})},
    )
