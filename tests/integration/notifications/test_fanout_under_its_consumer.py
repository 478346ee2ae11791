"""The fan-out as its consumer runs it: `processed_events` holds the event's row (and, through
its foreign key, a share lock on the user) while the handler writes for that same user.

Forgetting a dead token and correcting a token's APNs environment are such writes; each must
finish at once, not after the statement timeout with the event failed and retried.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.consumer_log import PostgresFailedMessages, PostgresProcessedEvents
from domain.devices.model import ApnsEnvironment
from events.consumer import EventConsumer
from tests.integration.notifications.family import Family, Wired, change
from tests.support import fcm_errors as fcm
from tests.support.apns_rules import Reply
from tests.support.clock import TestClock
from tests.support.fake_apns import FakeApns
from tests.support.fake_fcm import FakeFcm

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("frozen_clock")]

PROMPTLY_SECONDS = 5.0
"""Well below the pool's statement timeout (15 s), which a write waiting on its consumer hit."""


async def test_dead_tokens_and_a_sandbox_token_are_settled_promptly_under_the_consumer(
    wired: Wired,
    engine: AsyncEngine,
    clock: TestClock,
    family: Family,
    fake_apns: FakeApns,
    sandbox_apns: FakeApns,
    fake_fcm: FakeFcm,
) -> None:
    assert family.tablet.push_token is not None
    assert family.pixel.push_token is not None
    fake_apns.respond_to(family.tablet.push_token, Reply(400, "BadDeviceToken"))
    fake_fcm.fail_token(family.pixel.push_token, fcm.UNREGISTERED)
    consumer = EventConsumer(
        {"notifications": wired.pushes.on_event},
        PostgresProcessedEvents(engine),
        PostgresFailedMessages(engine),
        clock=clock,
    )

    started = time.monotonic()
    handled = await consumer.consume("notifications", change(family, version=80))
    elapsed = time.monotonic() - started

    assert handled
    assert elapsed < PROMPTLY_SECONDS
    assert (await wired.device(family.pixel)).push_token is None
    tablet = await wired.device(family.tablet)
    assert tablet.apns_environment is ApnsEnvironment.SANDBOX
    assert len([r for r in sandbox_apns.requests if r.device_token == tablet.push_token]) == 1


async def test_a_token_apple_calls_unregistered_is_forgotten_promptly_under_the_consumer(
    wired: Wired, engine: AsyncEngine, clock: TestClock, family: Family, fake_apns: FakeApns
) -> None:
    assert family.tablet.push_token is not None
    fake_apns.respond_to(family.tablet.push_token, Reply(410, "Unregistered"))
    consumer = EventConsumer(
        {"notifications": wired.pushes.on_event},
        PostgresProcessedEvents(engine),
        PostgresFailedMessages(engine),
        clock=clock,
    )

    started = time.monotonic()
    assert await consumer.consume("notifications", change(family, version=81))

    assert time.monotonic() - started < PROMPTLY_SECONDS
    assert (await wired.device(family.tablet)).push_token is None
