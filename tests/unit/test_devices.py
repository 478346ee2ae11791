"""Device registration rules, on the in-memory unit of work."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import anyio
import pytest

from domain.devices import use_cases
from domain.devices.model import ApnsEnvironment, Device, DeviceRegistration, Platform
from domain.errors import LimitExceeded, NotFound, PreconditionFailed, ValidationFailed
from tests.unit.fakes.unit_of_work import FakeUnitOfWork

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
IPHONE = DeviceRegistration(
    Platform.IOS, "4.2.0", push_token="ab" * 32, apns_environment=ApnsEnvironment.SANDBOX
)


def register(
    uow: FakeUnitOfWork,
    installation_id: str,
    reg: DeviceRegistration = IPHONE,
    expected: int | None = None,
) -> tuple[Device, bool]:
    async def run() -> tuple[Device, bool]:
        async with uow:
            result = await use_cases.register_device(
                uow, "u1", installation_id, reg, expected_version=expected, clock=lambda: NOW
            )
            await uow.commit()
            return result

    return anyio.run(run)


def test_a_first_registration_creates_the_device_with_a_version() -> None:
    uow = FakeUnitOfWork()

    device, created = register(uow, "install-0001")

    assert created
    assert device.version == 1
    assert uow.devices.rows[("u1", "install-0001")] == device


def test_registering_the_same_thing_again_takes_no_new_version() -> None:
    uow = FakeUnitOfWork()
    register(uow, "install-0001")

    device, created = register(uow, "install-0001")

    assert not created
    assert device.version == 1


def test_a_changed_registration_takes_a_new_version() -> None:
    uow = FakeUnitOfWork()
    register(uow, "install-0001")

    device, _ = register(uow, "install-0001", DeviceRegistration(Platform.IOS, "4.3.0"))

    assert device.version == 2
    assert device.push_token is None


def test_an_android_device_cannot_have_an_apns_environment() -> None:
    reg = DeviceRegistration(Platform.ANDROID, "4.2.0", apns_environment=ApnsEnvironment.PRODUCTION)

    with pytest.raises(ValidationFailed) as refused:
        register(FakeUnitOfWork(), "install-0001", reg)

    assert refused.value.problems[0].field == "apns_environment"


def test_a_twenty_first_device_is_refused_and_nothing_is_written() -> None:
    uow = FakeUnitOfWork()
    for n in range(20):
        register(uow, f"install-{n:04d}")

    with pytest.raises(LimitExceeded):
        register(uow, "install-9999")

    assert ("u1", "install-9999") not in uow.devices.rows


def test_a_stale_expected_version_is_refused() -> None:
    uow = FakeUnitOfWork()
    register(uow, "install-0001")

    with pytest.raises(PreconditionFailed):
        register(uow, "install-0001", DeviceRegistration(Platform.IOS, "5.0.0"), expected=7)

    assert uow.devices.rows[("u1", "install-0001")].app_version == "4.2.0"


def test_removing_an_unknown_device_is_not_found() -> None:
    uow = FakeUnitOfWork()

    async def run() -> None:
        async with uow:
            await use_cases.remove_device(
                uow, "u1", "install-0404", expected_version=None, clock=lambda: NOW
            )

    with pytest.raises(NotFound):
        anyio.run(run)


def test_a_token_registered_by_another_user_is_taken_from_their_device() -> None:
    uow = FakeUnitOfWork()
    theirs, _ = register(uow, "install-0001")
    moved = replace(theirs, user_id="u2")
    uow.devices.rows = {("u2", "install-0001"): moved}  # the same token, on another account

    mine, _ = register(uow, "install-0001")

    assert mine.push_token == IPHONE.push_token
    assert uow.devices.rows[("u2", "install-0001")].push_token is None
    assert [(e.type, e.user_id) for e in uow.outbox.events][-2:] == [
        ("device.push_token_revoked", "u2"),
        ("device.registered", "u1"),
    ]
