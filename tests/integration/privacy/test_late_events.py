"""A late event of an erased user, through the Pub/Sub emulator: published before the erasure,
delivered after it. The consumer acknowledges it and nothing of the user comes back (no row,
no push, no queued task)."""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

import anyio
import psycopg
from starlette.testclient import TestClient

from app.bootstrap import Container
from domain.common import utc_now
from domain.events import DomainEvent, EventType
from events.pubsub import PubSubPublisher
from tests.conftest import ApiUser
from tests.integration.privacy.test_requests_from_the_app import call, rows_of, seed
from tests.support.pubsub_emulator import PubSubEmulator


def as_pushed(message: Any, subscription: str) -> dict[str, Any]:
    """The emulator's message as Pub/Sub push delivers it to the app."""
    return {
        "message": {
            "data": base64.b64encode(message.data).decode(),
            "attributes": dict(message.attributes),
            "messageId": message.message_id,
            "publishTime": message.publish_time.isoformat(),
        },
        "subscription": subscription,
    }


def test_an_event_delivered_after_the_erasure_brings_nothing_back(
    client: TestClient,
    container: Container,
    pubsub_emulator: PubSubEmulator,
    alice: ApiUser,
    database_url: str,
) -> None:
    seed(client, alice)
    topic = pubsub_emulator.create_topic()
    subscription = pubsub_emulator.create_subscription(topic)
    late = DomainEvent(EventType.SYNC_REQUESTED, alice.uid, alice.uid, 99, utc_now())
    publisher = PubSubPublisher(pubsub_emulator.project_id, topic)
    anyio.run(publisher.publish, [late])  # in flight while the erasure runs

    erasure = client.delete("/v1/me", headers=alice.headers).json()
    call(client, container.privacy_runner.run_all, UUID(erasure["id"]))
    [message] = pubsub_emulator.pull(subscription, 1)
    delivered = client.post("/internal/pubsub/notifications", json=as_pushed(message, subscription))

    assert delivered.status_code == 204  # acknowledged: not redelivered for ever
    assert set(rows_of(database_url, alice.uid).values()) == {0}
    with psycopg.connect(database_url, autocommit=True) as conn:
        queued = conn.execute(
            "SELECT count(*) FROM scheduled_tasks WHERE payload->>'user_id' = %s", (alice.uid,)
        ).fetchone()
    assert queued == (0,)
