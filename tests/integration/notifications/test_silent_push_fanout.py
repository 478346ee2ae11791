"""Silent pushes from events, through our APNs and FCM senders to loopback fakes of both.

Real PostgreSQL for devices, budgets and the delayed-task queue; the fakes answer as Apple and
Google document, errors included. Each test's devices have their own tokens, and every
assertion looks at those tokens only. Fixtures: conftest.py; shared helpers: family.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.devices.model import ApnsEnvironment
from domain.events import EventType
from tests.integration.notifications.family import Family, Wired, change, fcm_to, metric, to
from tests.support import fcm_errors as fcm
from tests.support.apns_rules import Failure, Reply
from tests.support.clock import TestClock
from tests.support.fake_apns import FakeApns
from tests.support.fake_fcm import FakeFcm

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("frozen_clock")]


async def test_a_schedule_change_wakes_every_other_device_and_not_the_one_that_made_it(
    wired: Wired, family: Family, fake_apns: FakeApns, fake_fcm: FakeFcm, clock: TestClock
) -> None:
    await wired.pushes.on_event(change(family, EventType.SCHEDULE_UPDATED, version=41))

    [tablet] = to(fake_apns, family.tablet)
    assert tablet["payload"] == {"aps": {"content-available": 1}, "kind": "sync", "version": "41"}
    headers = tablet["headers"]
    assert isinstance(headers, dict)
    assert headers["apns-push-type"] == "background"
    assert headers["apns-priority"] == "5"
    assert headers["apns-topic"] == "com.example.focus"
    assert headers["apns-collapse-id"] == "focus-sync"
    expires = int(headers["apns-expiration"])
    assert expires == int((clock() + timedelta(hours=6)).timestamp())
    [pixel] = fcm_to(fake_fcm, family.pixel)
    assert pixel == {
        "token": family.pixel.push_token,
        "data": {"kind": "sync", "version": "41"},
        "android": {"priority": "NORMAL", "collapse_key": "focus-sync", "ttl": "21600s"},
    }
    assert to(fake_apns, family.phone) == []


async def test_a_focus_session_started_elsewhere_is_mirrored_urgently(
    wired: Wired, family: Family, fake_apns: FakeApns, fake_fcm: FakeFcm
) -> None:
    await wired.pushes.on_event(change(family, EventType.FOCUS_SESSION_STARTED, version=7))

    [pixel] = fcm_to(fake_fcm, family.pixel)
    assert pixel["android"] == {"priority": "HIGH", "collapse_key": "focus-focus", "ttl": "900s"}
    [tablet] = to(fake_apns, family.tablet)
    assert tablet["payload"] == {"aps": {"content-available": 1}, "kind": "focus", "version": "7"}


async def test_changes_that_devices_need_not_apply_send_nothing(
    wired: Wired, family: Family, fake_apns: FakeApns, fake_fcm: FakeFcm
) -> None:
    await wired.pushes.on_event(change(family, EventType.USAGE_REPORTED))
    await wired.pushes.on_event(change(family, EventType.PROFILE_UPDATED))

    assert to(fake_apns, family.tablet) == []
    assert fcm_to(fake_fcm, family.pixel) == []


async def test_a_token_apple_calls_unregistered_is_forgotten(
    wired: Wired, family: Family, fake_apns: FakeApns, clock: TestClock
) -> None:
    assert family.tablet.push_token is not None
    later = int((clock() + timedelta(seconds=5)).timestamp() * 1000)
    fake_apns.respond_to(family.tablet.push_token, Reply(410, "Unregistered", timestamp_ms=later))
    outcome = {"platform": "ios", "outcome": "unregistered", "reason": "Unregistered"}
    before = metric("focus_push_sent_total", outcome)
    forgotten = metric("focus_push_tokens_deactivated_total", {"platform": "ios"})

    await wired.pushes.on_event(change(family))

    tablet = await wired.device(family.tablet)
    assert tablet.push_token is None
    assert tablet.version > family.tablet.version  # the apps see the change in sync
    assert metric("focus_push_sent_total", outcome) == before + 1
    assert metric("focus_push_tokens_deactivated_total", {"platform": "ios"}) == forgotten + 1


async def test_a_device_that_checked_in_after_apples_410_keeps_its_token(
    wired: Wired, family: Family, fake_apns: FakeApns, clock: TestClock
) -> None:
    assert family.tablet.push_token is not None
    before_check_in = int((clock() - timedelta(minutes=5)).timestamp() * 1000)
    fake_apns.respond_to(
        family.tablet.push_token, Reply(410, "Unregistered", timestamp_ms=before_check_in)
    )

    await wired.pushes.on_event(change(family))

    assert (await wired.device(family.tablet)).push_token == family.tablet.push_token


async def test_a_sandbox_token_sent_to_production_is_moved_to_the_sandbox(
    wired: Wired, family: Family, fake_apns: FakeApns, sandbox_apns: FakeApns
) -> None:
    assert family.tablet.push_token is not None
    fake_apns.respond_to(family.tablet.push_token, Reply(400, "BadDeviceToken"))

    await wired.pushes.on_event(change(family))

    assert len(to(sandbox_apns, family.tablet)) == 1
    tablet = await wired.device(family.tablet)
    assert tablet.apns_environment is ApnsEnvironment.SANDBOX
    assert tablet.push_token == family.tablet.push_token


async def test_a_token_bad_on_both_hosts_is_forgotten(
    wired: Wired, family: Family, fake_apns: FakeApns, sandbox_apns: FakeApns
) -> None:
    assert family.tablet.push_token is not None
    for host in (fake_apns, sandbox_apns):
        host.respond_to(family.tablet.push_token, Reply(400, "BadDeviceToken"))

    await wired.pushes.on_event(change(family))

    assert (await wired.device(family.tablet)).push_token is None


@pytest.mark.parametrize(
    "reply",
    [Reply(429, "TooManyRequests", retry_after="120"), Reply(500, "InternalServerError")],
    ids=["429-retry-after", "500"],
)
async def test_a_push_apple_asks_to_retry_is_sent_again_later_not_sooner(
    wired: Wired, family: Family, fake_apns: FakeApns, clock: TestClock, reply: Reply
) -> None:
    fake_apns.respond_next(reply)
    await wired.pushes.on_event(change(family, version=50))
    assert len(to(fake_apns, family.tablet)) == 1

    clock.advance(timedelta(seconds=119 if reply.retry_after else 0))
    await wired.worker.drain()
    if reply.retry_after:
        assert len(to(fake_apns, family.tablet)) == 1  # not before Retry-After
    clock.advance(timedelta(minutes=2))
    await wired.worker.drain()

    retried = to(fake_apns, family.tablet)
    assert len(retried) == 2
    assert retried[-1]["payload"] == retried[0]["payload"]


async def test_a_connection_apple_closes_mid_stream_is_reopened_and_the_push_delivered(
    wired: Wired, family: Family, fake_apns: FakeApns
) -> None:
    fake_apns.respond_next(Reply.fail(Failure.CLOSE))

    await wired.pushes.on_event(change(family))

    delivered = [r for r in to(fake_apns, family.tablet)]
    assert len(delivered) >= 1
    assert fake_apns.connections_opened >= 2


async def test_a_token_fcm_no_longer_knows_is_forgotten(
    wired: Wired, family: Family, fake_fcm: FakeFcm
) -> None:
    assert family.pixel.push_token is not None
    fake_fcm.fail_token(family.pixel.push_token, fcm.UNREGISTERED)

    await wired.pushes.on_event(change(family))

    assert (await wired.device(family.pixel)).push_token is None


async def test_fcm_quota_exceeded_is_retried_after_its_retry_after(
    wired: Wired, family: Family, fake_fcm: FakeFcm, clock: TestClock
) -> None:
    fake_fcm.fail_next(fcm.QUOTA_EXCEEDED.with_retry_after("60"))
    await wired.pushes.on_event(change(family, version=60))
    assert len(fcm_to(fake_fcm, family.pixel)) == 1

    clock.advance(timedelta(minutes=30))  # past the longest backoff of a first retry
    await wired.worker.drain()

    retried = fcm_to(fake_fcm, family.pixel)
    assert len(retried) == 2
    assert retried[1]["data"] == {"kind": "sync", "version": "60"}
    assert (await wired.device(family.pixel)).push_token == family.pixel.push_token


async def test_a_burst_of_changes_reaches_a_device_within_budget_and_ends_on_the_last_state(
    wired: Wired, family: Family, fake_apns: FakeApns, clock: TestClock
) -> None:
    for n in range(20):  # twenty changes within a minute
        await wired.pushes.on_event(change(family, version=100 + n))
        clock.advance(timedelta(seconds=3))

    within_the_hour = to(fake_apns, family.tablet)
    assert len(within_the_hour) == 3

    clock.advance(timedelta(hours=1))
    await wired.worker.drain()

    delivered = to(fake_apns, family.tablet)
    assert len(delivered) == 4
    assert delivered[-1]["payload"] == {
        "aps": {"content-available": 1},
        "kind": "sync",
        "version": "119",
    }
