"""Use cases of a user's devices."""

from __future__ import annotations

from dataclasses import replace

from domain.common import Clock
from domain.devices import push_tokens
from domain.devices.model import (
    Device,
    DeviceRegistration,
    check_device_cap,
    validate_installation_id,
    validate_registration,
)
from domain.errors import NotFound
from domain.events import DomainEvent, EventType
from domain.preconditions import ExpectedVersion, check_expected_version
from domain.unit_of_work import UnitOfWork
from domain.users.model import validate_timezone


async def register_device(
    uow: UnitOfWork,
    user_id: str,
    installation_id: str,
    registration: DeviceRegistration,
    *,
    expected_version: ExpectedVersion,
    clock: Clock,
) -> tuple[Device, bool]:
    """Create or replace the installation's record (idempotent); also says if it is new."""
    validate_installation_id(installation_id)
    validate_registration(registration)
    if registration.timezone is not None:
        validate_timezone(registration.timezone)
    await push_tokens.lock_users_sharing(uow, user_id, registration.push_token)
    current = await uow.devices.get(user_id, installation_id)
    check_expected_version(current.version if current else None, expected_version, "device")
    now = clock()
    if current is None:
        check_device_cap(await uow.devices.count(user_id))
    if registration.push_token is not None:
        await push_tokens.take_push_token(
            uow, user_id, installation_id, registration.push_token, clock=clock
        )
    if current is not None and _same(current, registration):
        # A retry or a routine check-in: only last-seen moves; no new version for sync.
        seen = replace(current, last_seen_at=now)
        await uow.devices.save(seen)
        return seen, False
    version = await uow.next_version(user_id)
    device = Device(
        user_id=user_id,
        installation_id=installation_id,
        platform=registration.platform,
        push_token=registration.push_token,
        apns_environment=registration.apns_environment,
        app_version=registration.app_version,
        os_version=registration.os_version,
        timezone=registration.timezone,
        last_seen_at=now,
        version=version,
        created_at=current.created_at if current else now,
        updated_at=now,
    )
    await uow.devices.save(device)
    kind = EventType.DEVICE_REGISTERED if current is None else EventType.DEVICE_UPDATED
    await uow.outbox.add(DomainEvent(kind, user_id, installation_id, version, now))
    return device, current is None


def _same(device: Device, reg: DeviceRegistration) -> bool:
    return (
        device.platform,
        device.push_token,
        device.apns_environment,
        device.app_version,
        device.os_version,
        device.timezone,
    ) == (
        reg.platform,
        reg.push_token,
        reg.apns_environment,
        reg.app_version,
        reg.os_version,
        reg.timezone,
    )


async def remove_device(
    uow: UnitOfWork,
    user_id: str,
    installation_id: str,
    *,
    expected_version: ExpectedVersion,
    clock: Clock,
) -> None:
    await uow.lock_user(user_id)
    current = await uow.devices.get(user_id, installation_id)
    if current is None:
        raise NotFound(detail="no such device")
    check_expected_version(current.version if current else None, expected_version, "device")
    version = await uow.next_version(user_id)
    await uow.devices.delete(user_id, installation_id, version)
    await uow.outbox.add(
        DomainEvent(EventType.DEVICE_REMOVED, user_id, installation_id, version, clock())
    )


async def get_device(uow: UnitOfWork, user_id: str, installation_id: str) -> Device:
    device = await uow.devices.get(user_id, installation_id)
    if device is None:
        raise NotFound(detail="no such device")
    return device
