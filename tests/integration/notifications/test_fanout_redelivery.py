"""A fan-out that failed for one device, delivered again: only that device is pushed again.

Each device's outcome is settled on its own. A failure of one device (here: the delayed-task
queue refusing the retry Apple asked for) lets every other device finish before the event
fails, and the event's next delivery skips the devices already settled.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.task_queue import PostgresTaskQueue
from domain.devices.model import Platform
from domain.push.model import PushResult, SilentPush
from domain.push.ports import PushSender
from domain.tasks import Task
from tests.integration.notifications.family import Family, change, fcm_to, to, wire
from tests.support.apns_rules import Reply
from tests.support.clock import TestClock
from tests.support.fake_apns import FakeApns
from tests.support.fake_fcm import FakeFcm

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("frozen_clock")]


class QueueDownOnce:
    """The task queue, unreachable for its first scheduling."""

    def __init__(self, queue: PostgresTaskQueue) -> None:
        self._queue = queue
        self.refused = 0

    async def schedule(self, task: Task) -> bool:
        if not self.refused:
            self.refused += 1
            raise ConnectionError("the task queue is unreachable")
        return await self._queue.schedule(task)


class Slow:
    """A sender whose pushes take a while to be answered."""

    def __init__(self, sender: PushSender, seconds: float) -> None:
        self._sender = sender
        self._seconds = seconds

    async def send(self, push: SilentPush) -> PushResult:
        await asyncio.sleep(self._seconds)
        return await self._sender.send(push)

    async def aclose(self) -> None:
        await self._sender.aclose()


async def test_a_redelivered_event_pushes_again_only_the_device_whose_push_failed(
    engine: AsyncEngine,
    clock: TestClock,
    senders: dict[Platform, PushSender],
    family: Family,
    fake_apns: FakeApns,
    fake_fcm: FakeFcm,
) -> None:
    wired = wire(engine, clock, senders, QueueDownOnce(PostgresTaskQueue(engine, clock=clock)))
    assert family.tablet.push_token is not None
    fake_apns.respond_to(family.tablet.push_token, Reply(500, "InternalServerError"))
    event = change(family, version=70)

    with pytest.raises(ConnectionError):
        await wired.pushes.on_event(event)
    await wired.pushes.on_event(event)  # the consumer's next delivery of the same event

    assert len(fcm_to(fake_fcm, family.pixel)) == 1
    assert len(to(fake_apns, family.tablet)) == 2
    await wired.pushes.on_event(event)  # settled everywhere now: a third delivery sends nothing
    assert len(fcm_to(fake_fcm, family.pixel)) == 1
    assert len(to(fake_apns, family.tablet)) == 2


async def test_one_devices_failure_lets_the_others_finish_before_the_event_fails(
    engine: AsyncEngine,
    clock: TestClock,
    senders: dict[Platform, PushSender],
    family: Family,
    fake_apns: FakeApns,
    fake_fcm: FakeFcm,
) -> None:
    slow_android = {**senders, Platform.ANDROID: Slow(senders[Platform.ANDROID], 0.3)}
    queue = QueueDownOnce(PostgresTaskQueue(engine, clock=clock))
    wired = wire(engine, clock, slow_android, queue)
    assert family.tablet.push_token is not None
    fake_apns.respond_to(family.tablet.push_token, Reply(500, "InternalServerError"))

    with pytest.raises(ConnectionError):
        await wired.pushes.on_event(change(family, version=71))

    assert len(fcm_to(fake_fcm, family.pixel)) == 1  # delivered before the event failed
    await asyncio.sleep(0.5)
    assert len(fcm_to(fake_fcm, family.pixel)) == 1
