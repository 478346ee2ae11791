"""What the fan-out tests share: one user's devices, the fan-out wired to real PostgreSQL, and
what reached each device through the fakes."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.push_budgets import PostgresPushBudgets
from datastore.postgres.task_queue import PostgresTaskQueue
from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.devices import use_cases as devices
from domain.devices.model import ApnsEnvironment, Device, DeviceRegistration, Platform
from domain.events import DomainEvent, EventType
from domain.push.budget import BudgetPolicy
from domain.push.ports import PushSender
from domain.tasks import TaskScheduler
from domain.unit_of_work import UnitOfWork
from jobs.registry import TaskHandlers
from jobs.worker import TaskWorker
from notifications.fanout import DELIVER_TASK, SilentPushes
from tests.support.clock import TestClock
from tests.support.fake_apns import FakeApns
from tests.support.fake_fcm import FakeFcm


@dataclass
class Family:
    """One user's devices: the phone makes changes, the tablet and the pixel follow."""

    user_id: str
    phone: Device
    tablet: Device
    pixel: Device


@dataclass
class Wired:
    pushes: SilentPushes
    worker: TaskWorker
    engine: AsyncEngine

    def unit_of_work(self) -> UnitOfWork:
        return PostgresUnitOfWork(self.engine)

    async def device(self, device: Device) -> Device:
        async with self.unit_of_work() as uow:
            found = await uow.devices.get(device.user_id, device.installation_id)
        assert found is not None
        return found


def wire(
    engine: AsyncEngine,
    clock: TestClock,
    senders: Mapping[Platform, PushSender],
    scheduler: TaskScheduler | None = None,
) -> Wired:
    """The fan-out on `engine`, its delayed pushes in the Postgres queue (or `scheduler`)."""
    queue = PostgresTaskQueue(engine, clock=clock)
    pushes = SilentPushes(
        lambda: PostgresUnitOfWork(engine),
        senders,
        PostgresPushBudgets(engine, BudgetPolicy(limit=3)),
        scheduler or queue,
        clock=clock,
    )
    handlers = TaskHandlers()
    handlers.register(DELIVER_TASK, pushes.run_task)
    return Wired(pushes, TaskWorker(queue, handlers, clock=clock, batch_size=50), engine)


async def register(
    engine: AsyncEngine, clock: TestClock, user_id: str, name: str, reg: DeviceRegistration
) -> Device:
    async with PostgresUnitOfWork(engine) as uow:
        device, _ = await devices.register_device(
            uow, user_id, f"{name}-{uuid.uuid4().hex[:8]}", reg, expected_version=None, clock=clock
        )
        await uow.commit()
    return device


def apns_token() -> str:
    return secrets.token_hex(32)


def fcm_token() -> str:
    return f"{secrets.token_urlsafe(16)}:APA91b{secrets.token_urlsafe(110)}"


async def new_family(engine: AsyncEngine, clock: TestClock) -> Family:
    uid = f"u-{uuid.uuid4().hex[:20]}"
    production = ApnsEnvironment.PRODUCTION
    phone = await register(
        engine, clock, uid, "phone",
        DeviceRegistration(Platform.IOS, "4.2.0", apns_token(), production),
    )  # fmt: skip
    tablet = await register(
        engine, clock, uid, "tablet",
        DeviceRegistration(Platform.IOS, "4.2.0", apns_token(), production),
    )  # fmt: skip
    pixel = await register(
        engine, clock, uid, "pixel", DeviceRegistration(Platform.ANDROID, "4.2.0", fcm_token())
    )
    return Family(uid, phone, tablet, pixel)


def change(
    family: Family, kind: EventType = EventType.SCHEDULE_UPDATED, version: int = 40
) -> DomainEvent:
    return DomainEvent(
        kind,
        family.user_id,
        str(uuid.uuid4()),
        version,
        TestClock()(),
        origin_installation_id=family.phone.installation_id,
    )


def metric(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def to(fake: FakeApns, device: Device) -> list[dict[str, object]]:
    """What reached `device` through this APNs fake: headers and payload, in order."""
    return [
        {"headers": r.headers, "payload": r.json()}
        for r in fake.requests
        if r.device_token == device.push_token
    ]


def fcm_to(fake: FakeFcm, device: Device) -> list[dict[str, object]]:
    return [
        r.body["message"] for r in fake.sends if r.body["message"]["token"] == device.push_token
    ]
