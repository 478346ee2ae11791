"""What the push services teach us about a device's token."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.common import Clock
from domain.devices.model import ApnsEnvironment
from domain.events import DomainEvent
from domain.unit_of_work import UnitOfWork


async def forget_push_token(
    uow: UnitOfWork,
    user_id: str,
    installation_id: str,
    token: str,
    *,
    unregistered_at: datetime | None,
    clock: Clock,
) -> bool:
    """Stops pushing to a token the service called invalid; True when it was forgotten.

    Kept when the device has moved on to another token, or checked in after the moment the
    service last saw the token invalid (Apple's 410 `timestamp`): the app re-registered it.
    """
    await uow.lock_user(user_id)
    device = await uow.devices.get(user_id, installation_id)
    if device is None or device.push_token != token:
        return False
    if unregistered_at is not None and device.last_seen_at > unregistered_at:
        return False
    now = clock()
    version = await uow.next_version(user_id)
    await uow.devices.save(
        replace(device, push_token=None, apns_environment=None, version=version, updated_at=now)
    )
    await uow.outbox.add(
        DomainEvent("device.push_token_revoked", user_id, installation_id, version, now)
    )
    return True


async def move_to_apns_environment(
    uow: UnitOfWork,
    user_id: str,
    installation_id: str,
    token: str,
    environment: ApnsEnvironment,
    *,
    clock: Clock,
) -> bool:
    """The token works in the other APNs environment than the app said: remember that."""
    await uow.lock_user(user_id)
    device = await uow.devices.get(user_id, installation_id)
    if device is None or device.push_token != token or device.apns_environment is environment:
        return False
    now = clock()
    version = await uow.next_version(user_id)
    await uow.devices.save(
        replace(device, apns_environment=environment, version=version, updated_at=now)
    )
    await uow.outbox.add(DomainEvent("device.updated", user_id, installation_id, version, now))
    return True
