"""Cloud Functions of the legacy Firestore: every write of a document under `users/` becomes one
message on the Pub/Sub topic `legacy-changes` (format: `legacy_change.py`), for the backend's
legacy sync to map into Postgres. Thin by design: nothing is skipped here but a no-op write; the
consumer decides what to ignore (the backend's own mirrors, erased users, stale changes).
Deploying: functions/README.md.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

# Not `from google.cloud import pubsub_v1`: mypy then looks for it in the typed google.cloud
# of firestore and fails; as a module of its own it is untyped (Any), as in events/pubsub.py.
import google.cloud.pubsub_v1 as pubsub_v1
from firebase_functions import firestore_fn, logger, params
from firebase_functions.core import Change
from google.cloud.firestore_v1 import DocumentReference, DocumentSnapshot, GeoPoint
from google.cloud.firestore_v1.vector import Vector

try:  # imported as `functions.main` (the backend's tests)
    from . import legacy_change as codec
except ImportError:  # loaded as the top-level module `main`, as the Firebase runtime does
    import legacy_change as codec  # type: ignore[import-not-found, no-redef]

# Firestore triggers run in the database's region: `eur3` (terraform var.firestore_location)
# delivers its events in europe-west1.
REGION = "europe-west1"
SERVICE_ACCOUNT = "focus-legacy-trigger@"
"""The project's `focus-legacy-trigger` account (terraform/iam.tf): it may publish to
`legacy-changes` and nothing else, where the default compute account may do much more."""
TOPIC = params.StringParam(
    "LEGACY_CHANGES_TOPIC",
    default="legacy-changes",
    description="Pub/Sub topic (of this project) that receives every change under users/.",
)
PUBLISH_TIMEOUT_SECONDS = 30.0

ChangeEvent = firestore_fn.Event[Change[DocumentSnapshot[Any] | None]]

F = TypeVar("F", bound=Callable[..., Any])

_publisher: Any = None  # a pubsub_v1.PublisherClient, made on first use
_publisher_lock = threading.Lock()


def retried(function: F) -> F:
    """Asks Firebase to deliver an event again while the function fails (so that a change whose
    publish failed is not lost). firebase-functions 0.6.0 has no `retry` option on Firestore
    triggers and writes `retry: false` into the manifest the Firebase CLI deploys
    (firebase/firebase-functions-python#165); the CLI itself deploys `retry: true` of Firestore
    triggers (the Node SDK's option), so this sets it in the manifest entry the decorator made.
    Remove it once the SDK takes `retry=True`."""
    trigger = getattr(function, "__firebase_endpoint__").eventTrigger  # noqa: B009
    if trigger is None or "retry" not in trigger:
        raise RuntimeError("not an event-triggered Firebase function: cannot enable retries")
    trigger["retry"] = True
    return function


@retried
@firestore_fn.on_document_written(
    document="users/{uid}", region=REGION, service_account=SERVICE_ACCOUNT
)
def legacy_user_written(event: ChangeEvent) -> None:
    forward(event)


@retried
@firestore_fn.on_document_written(
    document="users/{uid}/{collection}/{docId}", region=REGION, service_account=SERVICE_ACCOUNT
)
def legacy_user_document_written(event: ChangeEvent) -> None:
    forward(event)


def forward(event: ChangeEvent) -> None:
    """Publishes the change and returns once Pub/Sub accepted it; raises otherwise, so that the
    event is delivered again (retries: README). A no-op write (before == after) is skipped."""
    before, after = event.data.before, event.data.after
    before_fields = None if before is None else before.to_dict()
    after_fields = None if after is None else after.to_dict()
    if (
        before_fields is not None
        and after_fields is not None
        and codec.same_document(before_fields, after_fields, _firestore_value)
    ):
        logger.debug("no-op write skipped", path=event.document, event_id=event.id)
        return
    document = after if after is not None else before
    change = codec.LegacyChange.of(
        path=event.document,
        before=before_fields,
        after=after_fields,
        # The new update_time (nanoseconds) of a write, the event's time of a delete.
        update_time=(after.update_time if after is not None else None) or event.time,
        create_time=None if document is None else document.create_time,
        event_id=event.id,
    )
    publish(change)


def publish(change: codec.LegacyChange) -> None:
    data = codec.encode_change(change, _firestore_value)
    publisher = _get_publisher()
    topic = publisher.topic_path(params.PROJECT_ID.value, TOPIC.value)
    future = publisher.publish(topic, data, ordering_key=change.ordering_key, **change.attributes)
    try:
        future.result(timeout=PUBLISH_TIMEOUT_SECONDS)
    except Exception:
        # With ordering, a failed key refuses every later message until it is resumed.
        publisher.resume_publish(topic, change.ordering_key)
        raise


def _get_publisher() -> Any:
    """One client per instance, made on first use (instances serve many events)."""
    global _publisher
    with _publisher_lock:
        if _publisher is None:
            options = pubsub_v1.types.PublisherOptions(enable_message_ordering=True)
            _publisher = pubsub_v1.PublisherClient(publisher_options=options)
        return _publisher


def _firestore_value(value: object) -> object:
    """The Firestore client's value types as the codec's (timestamps it takes as they are)."""
    if isinstance(value, DocumentReference):
        return codec.Reference(value.path)
    if isinstance(value, GeoPoint):
        return codec.GeoPoint(value.latitude, value.longitude)
    if isinstance(value, Vector):
        return codec.Vector(tuple(float(item) for item in value))
    return value
