"""Erasure under faults, end to end on Postgres: a store down mid-erasure, and the worker killed
after any step's work but before it was marked done (what SIGKILL leaves). Either way the
request completes only when every step did, reaches the same end state, and a step run again
changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from app.bootstrap import Container
from datastore.files.local import LocalFileStore
from datastore.postgres.engine import create_engine
from datastore.postgres.personal_data import PostgresPersonalData
from datastore.postgres.privacy_store import PostgresPrivacyStore
from domain.privacy.model import RequestKind, RequestState
from domain.privacy.ports import PersonalData
from domain.privacy.steps import StepState, entries_for
from domain.tasks import Task
from domain.user_data import DataStore, UserData
from privacy.runner import PrivacyRunner, ScanFoundData
from tests.conftest import ApiUser
from tests.integration.privacy.test_requests_from_the_app import call, rows_of, seed


class Killed(BaseException):
    """The process dies: no handler of ours runs (not `Exception`, as SIGKILL)."""


class Faulty:
    """Postgres's part, failing as told: `down` raises before the work, `kill_after` lets
    the work commit and then kills the process."""

    store = DataStore.POSTGRES

    def __init__(self, real: PersonalData) -> None:
        self.real = real
        self.down: dict[str, int] = {}
        """Entry name → how many more calls find the store down."""
        self.kill_after: str | None = None

    async def count(self, entry: UserData, uid: str) -> int:
        return await self.real.count(entry, uid)

    def read(self, entry: UserData, uid: str) -> AsyncIterator[Mapping[str, Any]]:
        return self.real.read(entry, uid)

    async def erase(self, entry: UserData, uid: str) -> int:
        if self.down.get(entry.name, 0) > 0:
            self.down[entry.name] -= 1
            raise ConnectionError("the database went away")
        erased = await self.real.erase(entry, uid)
        if entry.name == self.kill_after:
            self.kill_after = None
            raise Killed
        return erased


class Scheduled:
    def __init__(self) -> None:
        self.tasks: list[Task] = []

    async def schedule(self, task: Task) -> bool:
        self.tasks.append(task)
        return True


class Worker:
    """A worker process of its own (its own loop and pool): one that dies takes nothing else
    with it. `run(name, request_id)` calls the runner's method there."""

    def __init__(self, database_url: str, tmp_path: Path, clock: Any) -> None:
        self.database_url = database_url
        self.files = tmp_path / "files"
        self.clock = clock
        self.down: dict[str, int] = {}
        self.kill_after: str | None = None

    def run(self, method: str, request_id: UUID) -> Any:
        async def main() -> Any:
            engine = create_engine(self.database_url, pool_size=2)
            faulty = Faulty(PostgresPersonalData(engine))
            faulty.down, faulty.kill_after = self.down, self.kill_after
            try:
                runner = PrivacyRunner(
                    lambda: PostgresPrivacyStore(engine),
                    {DataStore.POSTGRES: faulty},
                    LocalFileStore(self.files, secret=b"s" * 32),
                    Scheduled(),
                    self.clock,
                    optional=frozenset(set(DataStore) - {DataStore.POSTGRES}),
                )
                return await getattr(runner, method)(request_id)
            finally:
                self.kill_after = faulty.kill_after
                await engine.dispose()

        return asyncio.run(main())


def erasure_of(client: TestClient, container: Container, user: ApiUser) -> UUID:
    seed(client, user)
    opened = call(client, container.privacy.open_from_app, RequestKind.ERASURE, user.uid)
    return UUID(str(opened.request.id))


def state_of(client: TestClient, container: Container, request_id: UUID) -> Any:
    async def look() -> Any:
        async with PostgresPrivacyStore(container.engine) as store:
            return await store.get(request_id), await store.steps(request_id)

    return call(client, look)


def test_a_store_down_mid_erasure_is_retried_and_the_request_waits_for_it(
    client: TestClient, container: Container, alice: ApiUser, database_url: str, tmp_path: Path
) -> None:
    request_id = erasure_of(client, container, alice)
    worker = Worker(database_url, tmp_path, container.services.clock)
    worker.down["focus_sessions"] = 2

    failures = 0
    while True:
        try:
            if not worker.run("run_next", request_id):
                break
        except ConnectionError:
            failures += 1
            request, steps = state_of(client, container, request_id)
            assert request.state is RequestState.RUNNING  # not completed while a step fails

    request, steps = state_of(client, container, request_id)
    sessions = next(s for s in steps if s.name == "focus_sessions")
    assert failures == 2
    assert sessions.attempts == 2
    assert sessions.state is StepState.DONE
    assert request.state is RequestState.COMPLETED
    assert set(rows_of(database_url, alice.uid).values()) == {0}


POSTGRES_STEPS = [e.name for e in entries_for(RequestKind.ERASURE) if e.store is DataStore.POSTGRES]


@pytest.mark.parametrize("killed_after", POSTGRES_STEPS)
def test_a_worker_killed_after_any_step_resumes_to_the_same_end(
    client: TestClient,
    container: Container,
    make_user: Any,
    database_url: str,
    tmp_path: Path,
    killed_after: str,
) -> None:
    user, neighbour = make_user(), make_user()
    seed(client, neighbour)
    request_id = erasure_of(client, container, user)
    worker = Worker(database_url, tmp_path, container.services.clock)
    worker.kill_after = killed_after

    with pytest.raises(Killed):
        worker.run("run_all", request_id)
    _, steps = state_of(client, container, request_id)
    killed = next(s for s in steps if s.name == killed_after)
    assert killed.state is StepState.PENDING  # its work committed, its mark never did

    worker.run("run_all", request_id)  # the queue runs the task again, in a new process

    request, steps = state_of(client, container, request_id)
    assert request.state is RequestState.COMPLETED
    assert {s.state for s in steps} == {StepState.DONE}
    assert next(s for s in steps if s.name == killed_after).count == 0  # nothing left to do
    assert set(rows_of(database_url, user.uid).values()) == {0}
    assert rows_of(database_url, neighbour.uid)["users"] == 1
    # Run again, a completed request changes nothing.
    assert worker.run("run_next", request_id) is False
    assert state_of(client, container, request_id) == (request, steps)


class Stubborn(Faulty):
    """A store whose rows of one kind come back however often they are erased (a writer
    that ignores the erased list): the scan must say where, and not complete the request."""

    def __init__(self, real: PersonalData, kind: str) -> None:
        super().__init__(real)
        self.kind = kind

    async def count(self, entry: UserData, uid: str) -> int:
        found = await self.real.count(entry, uid)
        return found + 1 if entry.name == self.kind else found


def test_a_scan_that_still_finds_data_keeps_the_counts_and_the_request_open(
    client: TestClient, container: Container, alice: ApiUser, database_url: str, tmp_path: Path
) -> None:
    request_id = erasure_of(client, container, alice)

    async def main() -> None:
        engine = create_engine(database_url, pool_size=2)
        try:
            runner = PrivacyRunner(
                lambda: PostgresPrivacyStore(engine),
                {DataStore.POSTGRES: Stubborn(PostgresPersonalData(engine), "blocklists")},
                LocalFileStore(tmp_path / "files", secret=b"s" * 32),
                Scheduled(),
                container.services.clock,
                optional=frozenset(set(DataStore) - {DataStore.POSTGRES}),
            )
            with pytest.raises(ScanFoundData):
                await runner.run_all(request_id)
        finally:
            await engine.dispose()

    asyncio.run(main())

    request, steps = state_of(client, container, request_id)
    scan = steps[-1]
    assert request.state is RequestState.RUNNING
    assert scan.state is StepState.PENDING
    assert scan.error == "ScanFoundData"
    assert scan.detail is not None
    assert scan.detail["blocklists"] == 1
    assert {k: v for k, v in scan.detail.items() if k != "blocklists"} == dict.fromkeys(
        [k for k in scan.detail if k != "blocklists"], 0
    )
