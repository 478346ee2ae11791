"""The fan-out's fixtures: real senders to the loopback fakes, a frozen clock, one family."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.devices.model import Platform
from domain.push.ports import PushSender
from notifications.apns import ApnsConfig, ApnsSender
from notifications.fcm import FcmConfig, FcmSender
from tests.integration.notifications.family import Family, Wired, new_family, wire
from tests.support.apns_rules import ApnsCredentials
from tests.support.clock import TestClock
from tests.support.fake_apns import FakeApns
from tests.support.fake_fcm import FakeFcm
from tests.support.google import new_signing_key


@pytest.fixture
def frozen_clock(clock: TestClock) -> None:
    """Time moves only when a test says (TTLs, budgets, Retry-After are exact)."""
    clock.set(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def sandbox_apns(
    apns_credentials: ApnsCredentials, fake_apns: FakeApns, clock: TestClock
) -> Iterator[FakeApns]:
    """APNs' sandbox host: another fake, trusted through the same CA."""
    with FakeApns(apns_credentials, clock=clock, certificates=fake_apns.certificates) as fake:
        yield fake


@pytest.fixture
async def senders(
    clock: TestClock,
    apns_credentials: ApnsCredentials,
    fake_apns: FakeApns,
    sandbox_apns: FakeApns,
    fake_fcm: FakeFcm,
    tmp_path: Path,
) -> AsyncIterator[dict[Platform, PushSender]]:
    apns = ApnsSender(
        ApnsConfig(
            key_id=apns_credentials.key_id,
            team_id=apns_credentials.team_id,
            topic=apns_credentials.topic,
            private_key_pem=apns_credentials.private_key_pem,
            production_url=fake_apns.url,
            sandbox_url=sandbox_apns.url,
            ca_file=fake_apns.ca_file,
        ),
        clock=clock,
    )
    account = fake_fcm.service_account_file(tmp_path, new_signing_key())
    android = FcmSender(
        FcmConfig(fake_fcm.project_id, credentials_file=account, base_url=fake_fcm.base_url),
        clock=clock,
    )
    yield {Platform.IOS: apns, Platform.ANDROID: android}
    await apns.aclose()
    await android.aclose()


@pytest.fixture
def wired(engine: AsyncEngine, clock: TestClock, senders: dict[Platform, PushSender]) -> Wired:
    return wire(engine, clock, senders)


@pytest.fixture
async def family(engine: AsyncEngine, clock: TestClock) -> Family:
    return await new_family(engine, clock)
