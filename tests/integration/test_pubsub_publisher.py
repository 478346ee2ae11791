"""The Pub/Sub publisher on a real emulator: every event once, in order per user, as JSON."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from ai.hooks import SUGGESTING_EVENTS
from app.cli import cli
from datastore.postgres.schema import upgrade
from domain.common import utc_now
from domain.events import DomainEvent, EventType
from events.pubsub import EVENT_TYPE, PublishFailed, PubSubPublisher, subscription_filter
from events.relay import OutboxRelay
from tests.support.pubsub_emulator import PubSubEmulator
from tests.unit.fakes.unit_of_work import FakeUnitOfWork

pytestmark = pytest.mark.anyio


def make_events(user_id: str, count: int, start: int = 1) -> list[DomainEvent]:
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    return [
        DomainEvent(
            type=EventType.FOCUS_SESSION_STARTED,
            user_id=user_id,
            subject_id=f"s-{n}",
            record_version=n,
            occurred_at=at + timedelta(seconds=n),
            payload={"n": n},
        )
        for n in range(start, start + count)
    ]


def interleave(*streams: list[DomainEvent]) -> list[DomainEvent]:
    return [event for group in zip(*streams, strict=True) for event in group]


def per_user(messages: list[Any], user_id: str) -> list[int]:
    return [json.loads(m.data)["record_version"] for m in messages if m.ordering_key == user_id]


async def test_a_batch_arrives_once_each_in_order_per_user(
    pubsub_emulator: PubSubEmulator,
) -> None:
    topic = pubsub_emulator.create_topic()
    subscription = pubsub_emulator.create_subscription(topic)
    publisher = PubSubPublisher(pubsub_emulator.project_id, topic)
    alice, bob = make_events("alice", 20), make_events("bob", 20)

    await publisher.publish(interleave(alice, bob))

    messages = pubsub_emulator.pull(subscription, 40)
    assert len(messages) == 40
    assert sorted(json.loads(m.data)["id"] for m in messages) == sorted(
        str(e.id) for e in alice + bob
    )
    assert per_user(messages, "alice") == list(range(1, 21))
    assert per_user(messages, "bob") == list(range(1, 21))


async def test_a_message_carries_the_event_as_json_and_attributes(
    pubsub_emulator: PubSubEmulator,
) -> None:
    topic = pubsub_emulator.create_topic()
    subscription = pubsub_emulator.create_subscription(topic)
    publisher = PubSubPublisher(pubsub_emulator.project_id, topic)
    paris = timezone(timedelta(hours=1))
    event = DomainEvent(
        type=EventType.BLOCKLIST_UPDATED,
        user_id="carol",
        subject_id="b-1",
        record_version=7,
        occurred_at=datetime(2026, 3, 1, 10, 30, 0, 123456, tzinfo=paris),
        payload={"sites": 3},
    )

    await publisher.publish([event])

    [message] = pubsub_emulator.pull(subscription, 1)
    assert message.data == (
        b'{"id":"' + str(event.id).encode() + b'","type":"blocklist.updated",'
        b'"schema_version":1,"user_id":"carol","subject_id":"b-1","record_version":7,'
        b'"occurred_at":"2026-03-01T09:30:00.123456Z","payload":{"sites":3}}'
    )
    assert dict(message.attributes) == {
        "event_id": str(event.id),
        "event_type": "blocklist.updated",
        "schema_version": "1",
    }
    assert message.ordering_key == "carol"


async def test_publishing_to_an_unknown_topic_raises(pubsub_emulator: PubSubEmulator) -> None:
    publisher = PubSubPublisher(pubsub_emulator.project_id, pubsub_emulator.unique_name("none"))

    with pytest.raises(PublishFailed, match="3 of 3 events"):
        await publisher.publish(make_events("dave", 3))


async def test_a_key_that_failed_can_publish_again(pubsub_emulator: PubSubEmulator) -> None:
    """After a failure the client pauses the key; the publisher resumes it for the next batch."""
    topic = pubsub_emulator.unique_name("late")
    publisher = PubSubPublisher(pubsub_emulator.project_id, topic)
    with pytest.raises(PublishFailed):
        await publisher.publish(make_events("erin", 2))

    pubsub_emulator.create_topic(topic)
    subscription = pubsub_emulator.create_subscription(topic)
    await publisher.publish(make_events("erin", 2, start=3))

    assert per_user(pubsub_emulator.pull(subscription, 2), "erin") == [3, 4]


async def test_the_relay_leaves_events_pending_when_the_topic_is_unknown(
    pubsub_emulator: PubSubEmulator,
) -> None:
    uow = FakeUnitOfWork()
    async with uow:
        for event in make_events("frank", 3):
            await uow.outbox.add(event)
        await uow.commit()
    publisher = PubSubPublisher(pubsub_emulator.project_id, pubsub_emulator.unique_name("none"))
    relay = OutboxRelay(lambda: uow, publisher, clock=utc_now)

    with pytest.raises(PublishFailed):
        await relay.run_once()

    assert uow.outbox.published == set()
    assert len(await uow.outbox.claim_pending(10)) == 3


def test_the_relay_command_publishes_the_outbox_to_pubsub(
    pubsub_emulator: PubSubEmulator,
    scratch_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    topic = pubsub_emulator.create_topic()
    subscription = pubsub_emulator.create_subscription(topic)
    upgrade(scratch_database)
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute("INSERT INTO users (uid, created_at, updated_at) VALUES ('u1', now(), now())")
        conn.execute(
            "INSERT INTO outbox_events (id, user_id, type, schema_version, subject_id,"
            " record_version, payload, occurred_at)"
            " VALUES (%s, 'u1', 'profile.updated', 1, 'u1', 1, '{}', now())",
            (uuid.uuid4(),),
        )
    for name, value in {
        "DATABASE_URL": scratch_database,
        "FOCUS_EVENTS": "pubsub",
        "FOCUS_PUBSUB_TOPIC": topic,
        "GOOGLE_CLOUD_PROJECT": pubsub_emulator.project_id,
        "FOCUS_DATA_DIR": str(tmp_path),
    }.items():
        monkeypatch.setenv(name, value)

    result = CliRunner().invoke(cli, ["events", "relay", "--once"])

    assert result.exit_code == 0, result.output
    assert "published 1 event(s)" in result.output
    [message] = pubsub_emulator.pull(subscription, 1)
    assert message.attributes["event_type"] == "profile.updated"
    with psycopg.connect(scratch_database) as conn:
        pending = conn.execute("SELECT count(*) FROM outbox_events WHERE published_at IS NULL")
        assert pending.fetchone() == (0,)


async def test_each_message_names_its_event_type_as_the_ai_subscriptions_filter_reads_it(
    pubsub_emulator: PubSubEmulator,
) -> None:
    """terraform/ai.tf's filter (tests/unit/test_terraform_ai.py) selects by the `event_type`
    attribute. The emulator (0.8.x) stores a subscription's filter but delivers everything, so
    this checks what the filter relies on: over one event of every type as the publisher sends
    them, exactly the suggesting ones carry a value the filter names."""
    topic = pubsub_emulator.create_topic()
    subscription = pubsub_emulator.create_subscription(topic)
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    events = [
        DomainEvent(type=t, user_id="dora", subject_id=f"x-{n}", record_version=n, occurred_at=at)
        for n, t in enumerate(EventType, start=1)
    ]
    named = set(re.findall(rf'attributes\.{EVENT_TYPE} = "([^"]+)"', ai_filter()))

    await PubSubPublisher(pubsub_emulator.project_id, topic).publish(events)

    messages = pubsub_emulator.pull(subscription, len(events))
    assert len(messages) == len(events)
    let_through = sorted(
        m.attributes[EVENT_TYPE] for m in messages if m.attributes[EVENT_TYPE] in named
    )
    assert let_through == sorted(t.value for t in SUGGESTING_EVENTS)


def ai_filter() -> str:
    return subscription_filter(SUGGESTING_EVENTS)
