"""A push token belongs to one device of one user at a time.

Signing out without `DELETE /v1/devices` and signing in with another account on the same
install registers the same token for the new account: the old account's device loses it (its
user sees the change in sync) and is never woken through it again. A reinstall does the same
to the user's own old installation; two accounts taking each other's tokens at once both
succeed; a token held twice from before goes to the device seen last.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.devices import use_cases as devices
from domain.devices.model import ApnsEnvironment, Device, DeviceRegistration, Platform
from domain.events import DomainEvent, EventType
from tests.integration.notifications.family import Wired, apns_token, to
from tests.support.clock import TestClock
from tests.support.fake_apns import FakeApns

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("frozen_clock")]


async def put(
    engine: AsyncEngine, clock: TestClock, uid: str, installation: str, token: str
) -> Device:
    """`PUT /v1/devices/{installation}` of an iPhone with `token`."""
    registration = DeviceRegistration(Platform.IOS, "4.2.0", token, ApnsEnvironment.PRODUCTION)
    async with PostgresUnitOfWork(engine) as uow:
        device, _ = await devices.register_device(
            uow, uid, installation, registration, expected_version=None, clock=clock
        )
        await uow.commit()
    return device


def new_uid() -> str:
    return f"u-{uuid.uuid4().hex[:20]}"


def new_installation() -> str:
    return f"install-{uuid.uuid4().hex[:12]}"


def sync_requested(uid: str, origin: str | None = None) -> DomainEvent:
    return DomainEvent(
        EventType.SYNC_REQUESTED, uid, uid, 99, TestClock()(), origin_installation_id=origin
    )


def revoked(database_url: str, uid: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT subject_id FROM outbox_events"
            " WHERE user_id = %s AND type = 'device.push_token_revoked'",
            (uid,),
        ).fetchall()
    return [str(r[0]) for r in rows]


async def test_a_token_another_account_registers_no_longer_wakes_the_old_accounts_device(
    wired: Wired, engine: AsyncEngine, clock: TestClock, fake_apns: FakeApns, database_url: str
) -> None:
    alice, bob, install, token = new_uid(), new_uid(), new_installation(), apns_token()
    before = await put(engine, clock, alice, install, token)
    clock.advance(timedelta(minutes=1))

    bobs = await put(engine, clock, bob, install, token)  # same phone, Bob signed in

    alices = await wired.device(before)
    assert alices.push_token is None
    assert alices.version > before.version  # Alice's other devices see it in sync
    assert revoked(database_url, alice) == [install]
    await wired.pushes.on_event(sync_requested(alice))
    assert to(fake_apns, before) == []
    await wired.pushes.on_event(sync_requested(bob))
    assert len(to(fake_apns, bobs)) == 1


async def test_a_reinstall_takes_the_token_from_the_users_old_installation(
    wired: Wired, engine: AsyncEngine, clock: TestClock, fake_apns: FakeApns
) -> None:
    alice, token = new_uid(), apns_token()
    old = await put(engine, clock, alice, new_installation(), token)
    clock.advance(timedelta(minutes=1))
    new = await put(engine, clock, alice, new_installation(), token)

    assert (await wired.device(old)).push_token is None
    assert (await wired.device(new)).push_token == token
    await wired.pushes.on_event(sync_requested(alice))
    assert len(to(fake_apns, new)) == 1  # once, not once per installation


async def test_a_token_held_twice_from_before_wakes_only_the_device_seen_last(
    wired: Wired, engine: AsyncEngine, clock: TestClock, fake_apns: FakeApns
) -> None:
    alice, bob, token = new_uid(), new_uid(), apns_token()
    stale = await put(engine, clock, alice, new_installation(), token)
    clock.advance(timedelta(minutes=1))
    fresh = await put(engine, clock, bob, new_installation(), apns_token())
    async with PostgresUnitOfWork(engine) as uow:  # as rows written before the rule held
        await uow.devices.save(replace(fresh, push_token=token))
        await uow.commit()

    await wired.pushes.on_event(sync_requested(alice))
    await wired.pushes.on_event(sync_requested(bob))

    assert [r["payload"] for r in to(fake_apns, stale)] == [
        {"aps": {"content-available": 1}, "kind": "sync", "version": "99"}
    ]  # Bob's one push, none for Alice


async def test_two_accounts_taking_each_others_tokens_at_once_both_succeed(
    engine: AsyncEngine, clock: TestClock, database_url: str
) -> None:
    for _ in range(5):
        alice, bob = new_uid(), new_uid()
        x, y = apns_token(), apns_token()
        await put(engine, clock, alice, new_installation(), x)
        await put(engine, clock, bob, new_installation(), y)

        await asyncio.wait_for(
            asyncio.gather(
                put(engine, clock, alice, new_installation(), y),
                put(engine, clock, bob, new_installation(), x),
            ),
            timeout=10,
        )

        with psycopg.connect(database_url) as conn:
            holders = conn.execute(
                "SELECT push_token, user_id FROM devices"
                " WHERE push_token = ANY(%s) AND deleted_at IS NULL",
                ([x, y],),
            ).fetchall()
        assert sorted(holders) == sorted([(x, bob), (y, alice)])
