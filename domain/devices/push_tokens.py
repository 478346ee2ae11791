"""A device's push token: one device of one user holds it at a time, and what the push
services teach us about it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.common import Clock
from domain.devices.model import ApnsEnvironment, Device
from domain.events import DomainEvent, EventType
from domain.unit_of_work import UnitOfWork


async def lock_users_sharing(uow: UnitOfWork, user_id: str, token: str | None) -> None:
    """Locks `user_id` and every user with a device holding `token`, in uid order.

    One order for every registration: two accounts taking each other's tokens at once wait in
    turn instead of deadlocking.
    """
    uids = {user_id}
    if token is not None:
        uids |= {device.user_id for device in await uow.devices.holding([token])}
    for uid in sorted(uids):
        await uow.lock_user(uid)


async def take_push_token(
    uow: UnitOfWork, user_id: str, installation_id: str, token: str, *, clock: Clock
) -> list[Device]:
    """Takes `token` from every other device that holds it; returns those devices.

    A token belongs to one device of one user at a time: after a sign-out without
    `DELETE /v1/devices`, another account signing in on the same install registers the same
    token, and the old account's device must stop being woken (a reinstall does the same to
    the user's own old installation). Each device loses the token with its user's next
    version and a `device.push_token_revoked` event. Call after `lock_users_sharing`.
    """
    taken: list[Device] = []
    now = clock()
    for holder in await uow.devices.holding([token]):
        if (holder.user_id, holder.installation_id) == (user_id, installation_id):
            continue
        # Already locked, unless its user registered the token since `lock_users_sharing`
        # read: out of order then, and a deadlock that may cause is detected by PostgreSQL
        # and answered 503 (retry), never a wait without end.
        await uow.lock_user(holder.user_id)
        version = await uow.next_version(holder.user_id)
        revoked = replace(
            holder, push_token=None, apns_environment=None, version=version, updated_at=now
        )
        await uow.devices.save(revoked)
        await uow.outbox.add(
            DomainEvent(
                EventType.DEVICE_PUSH_TOKEN_REVOKED,
                holder.user_id,
                holder.installation_id,
                version,
                now,
            )
        )
        taken.append(holder)
    return taken


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
        DomainEvent(EventType.DEVICE_PUSH_TOKEN_REVOKED, user_id, installation_id, version, now)
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
    await uow.outbox.add(
        DomainEvent(EventType.DEVICE_UPDATED, user_id, installation_id, version, now)
    )
    return True
