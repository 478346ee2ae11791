"""The `functions/` trigger, called as Firebase calls it: a Firestore CloudEvent (protobuf
`DocumentEventData` of real documents read from the Firestore emulator) goes into the deployed
entry point, `firebase_functions` turns it into `Event[Change[DocumentSnapshot]]`, and the
message must be on the Pub/Sub emulator's topic when the call returns."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import yaml
from firebase_functions.private import serving
from google.api_core.datetime_helpers import DatetimeWithNanoseconds
from google.api_core.exceptions import NotFound
from google.cloud import firestore

from functions import main
from functions.legacy_change import decode_change
from tests.support.firestore_emulator import FirestoreEmulator
from tests.support.firestore_events import (  # noqa: F401 (fixtures for this module)
    WRITTEN,
    _default_firebase_app,
    _stop_publisher,
    deliver,
    event,
    raw_document,
)
from tests.support.pubsub_emulator import PROJECT_ID, PubSubEmulator

UID = "Xq3Lr9TzPd0bWkM2sYc7uVn1EaH4"  # shaped like a Firebase uid (28 characters)


@pytest.fixture
def client(firestore_emulator: FirestoreEmulator) -> Iterator[firestore.Client]:
    firestore_emulator.reset()
    yield firestore_emulator.client()
    firestore_emulator.reset()


@pytest.fixture
def subscription(pubsub_emulator: PubSubEmulator, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh topic as the function's LEGACY_CHANGES_TOPIC; its ordered pull subscription."""
    topic = pubsub_emulator.create_topic()
    monkeypatch.setenv("LEGACY_CHANGES_TOPIC", topic)
    monkeypatch.setenv("GCLOUD_PROJECT", PROJECT_ID)  # set by the Functions runtime
    return pubsub_emulator.create_subscription(topic)


def rfc3339(value: DatetimeWithNanoseconds) -> str:
    """The message's format: UTC, 9 fractional digits."""
    return f"{value.astimezone(UTC):%Y-%m-%dT%H:%M:%S}.{value.nanosecond:09d}Z"


def test_an_update_under_a_user_is_published_with_both_documents(
    client: firestore.Client, pubsub_emulator: PubSubEmulator, subscription: str
) -> None:
    path = f"users/{UID}/schedules/dOnprj2fHgqfR9WVfTmo"
    blocklist = client.document(f"users/{UID}/blocklists/b1")
    paused = datetime(2025, 11, 3, 10, 15, 0, 123456, tzinfo=UTC)
    client.document(path).set({"name": "Work", "days": [1, 2], "_v": 3, "_writer": "backend"})
    before = raw_document(client, path)
    client.document(path).set(
        {
            "name": "Deep work",
            "days": ["mon", "tue"],
            "blocklist": blocklist,
            "hardMode": True,
            "pausedUntil": paused,
            "plannedMinutes": 25,
            "ratio": 1.0,
            "where": firestore.GeoPoint(48.8566, 2.3522),
            "raw": b"\x00\xff",
            "nested": {"a": [1, {"b": None}], "ref": "plain"},
            "_v": 4,
            "_writer": "backend",
        }
    )
    after = raw_document(client, path)
    raw = event(path, before, after, event_id="evt-1")

    deliver(main.legacy_user_document_written, raw)

    (message,) = pubsub_emulator.pull(subscription, 1)
    assert message.ordering_key == UID
    assert dict(message.attributes) == {
        "uid": UID,
        "collection": "schedules",
        "doc_id": "dOnprj2fHgqfR9WVfTmo",
        "event_id": "evt-1",
        "writer": "backend",
    }
    assert json.loads(message.data) == {
        "schema_version": 1,
        "path": path,
        "uid": UID,
        "collection": "schedules",
        "doc_id": "dOnprj2fHgqfR9WVfTmo",
        "event_id": "evt-1",
        "before": {"name": "Work", "days": [1, 2], "_v": 3, "_writer": "backend"},
        "after": {
            "name": "Deep work",
            "days": ["mon", "tue"],
            "blocklist": {"__ref__": f"users/{UID}/blocklists/b1"},
            "hardMode": True,
            "pausedUntil": {"__timestamp__": "2025-11-03T10:15:00.123456000Z"},
            "plannedMinutes": 25,
            "ratio": 1.0,
            "where": {"__geo__": [48.8566, 2.3522]},
            "raw": {"__bytes__": "AP8="},
            "nested": {"a": [1, {"b": None}], "ref": "plain"},
            "_v": 4,
            "_writer": "backend",
        },
        "update_time": rfc3339(after.update_time),
        "create_time": rfc3339(after.create_time),
    }
    assert b'"ratio":1.0' in message.data  # a double stays a double, an int an int
    decoded = decode_change(message.data)
    assert decoded.kind == "update"
    assert decoded.update_time.rfc3339() == rfc3339(after.update_time)


def test_a_created_user_document_is_published_with_no_before(
    client: firestore.Client, pubsub_emulator: PubSubEmulator, subscription: str
) -> None:
    path = f"users/{UID}"
    client.document(path).set({"displayName": "Ada", "dailyGoalMinutes": "60"})
    after = raw_document(client, path)

    deliver(main.legacy_user_written, event(path, None, after, event_id="evt-2"))

    (message,) = pubsub_emulator.pull(subscription, 1)
    change = decode_change(message.data)
    assert (change.path, change.uid, change.collection, change.doc_id) == (
        path,
        UID,
        "users",
        UID,
    )
    assert (change.before, change.after) == (None, {"displayName": "Ada", "dailyGoalMinutes": "60"})
    assert dict(message.attributes)["writer"] == "legacy"
    assert message.ordering_key == UID


def test_a_delete_is_published_with_no_after_at_the_event_time(
    client: firestore.Client, pubsub_emulator: PubSubEmulator, subscription: str
) -> None:
    path = f"users/{UID}/devices/6F9619FF-8B86-D011-B42D-00C04FC964FF"
    client.document(path).set({"platform": "iOS", "_v": 2, "_writer": "backend"})
    before = raw_document(client, path)
    client.document(path).delete()
    deleted_at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)

    raw = event(path, before, None, event_id="evt-3", time=deleted_at)
    deliver(main.legacy_user_document_written, raw)

    (message,) = pubsub_emulator.pull(subscription, 1)
    body = json.loads(message.data)
    assert (body["before"], body["after"]) == (
        {"platform": "iOS", "_v": 2, "_writer": "backend"},
        None,
    )
    assert body["update_time"] == "2026-01-02T03:04:05.678901000Z"
    assert body["create_time"] == rfc3339(before.create_time)
    assert dict(message.attributes)["writer"] == "legacy"  # a delete has no _writer


def test_a_write_that_changes_nothing_publishes_nothing(
    client: firestore.Client, pubsub_emulator: PubSubEmulator, subscription: str
) -> None:
    path = f"users/{UID}/blocklists/b1"
    client.document(path).set({"name": "Social", "apps": ["com.instagram.android"]})
    before = raw_document(client, path)
    client.document(path).set({"name": "Social", "apps": ["com.instagram.android"]})
    after = raw_document(client, path)

    deliver(main.legacy_user_document_written, event(path, before, after))

    assert pubsub_emulator.pull(subscription, 0) == []


def test_a_failed_publish_raises_and_the_retried_event_is_published(
    client: firestore.Client,
    pubsub_emulator: PubSubEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    missing = pubsub_emulator.unique_name("not-yet")
    monkeypatch.setenv("LEGACY_CHANGES_TOPIC", missing)
    monkeypatch.setenv("GCLOUD_PROJECT", PROJECT_ID)
    path = f"users/{UID}/sessions/s1"
    client.document(path).set({"plannedMinutes": 25})
    raw = event(path, None, raw_document(client, path), event_id="evt-5")

    with pytest.raises(NotFound):  # Firebase delivers the event again (retry: README)
        deliver(main.legacy_user_document_written, raw)

    pubsub_emulator.create_topic(missing)
    subscription = pubsub_emulator.create_subscription(missing)
    # The same uid (ordering key) again: it was resumed after the failure.
    deliver(main.legacy_user_document_written, raw)
    (message,) = pubsub_emulator.pull(subscription, 1)
    assert (message.ordering_key, dict(message.attributes)["event_id"]) == (UID, "evt-5")


def test_the_deployed_triggers_watch_users_and_are_retried() -> None:
    """What the Firebase CLI reads to deploy (`functions.yaml` of the functions' admin server)."""
    functions = {
        "legacy_user_written": main.legacy_user_written,
        "legacy_user_document_written": main.legacy_user_document_written,
    }
    manifest = yaml.safe_load(serving.functions_as_yaml(functions))

    documents = {}
    for name, endpoint in manifest["endpoints"].items():
        trigger = endpoint["eventTrigger"]
        assert trigger["eventType"] == WRITTEN
        assert trigger["retry"] is True
        assert endpoint["region"] == ["europe-west1"]
        documents[name] = trigger["eventFilterPathPatterns"]["document"]
    assert documents == {
        "legacy_user_written": "users/{uid}",
        "legacy_user_document_written": "users/{uid}/{collection}/{docId}",
    }
    assert manifest["params"] == [
        {
            "name": "LEGACY_CHANGES_TOPIC",
            "type": "string",
            "default": "legacy-changes",
            "description": main.TOPIC.description,
        }
    ]
