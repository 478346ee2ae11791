"""Firestore's document events as Eventarc delivers them to `functions/`, for tests.

Built from documents stored in the Firestore emulator (the events' payload is the same protobuf
message), delivered into the deployed entry points of `functions/main.py`. Importing the two
fixtures into a test module sets up what the Functions framework needs there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, cast

import firebase_admin
import pytest
from cloudevents.http import CloudEvent
from google.api_core.datetime_helpers import DatetimeWithNanoseconds
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore
from google.events.cloud import firestore as firestore_events

from functions import main
from tests.support.pubsub_emulator import PROJECT_ID

WRITTEN = "google.cloud.firestore.document.v1.written"
Trigger = Callable[[CloudEvent], None]


@pytest.fixture(scope="module", autouse=True)
def _default_firebase_app() -> Iterator[None]:
    """The framework reads the default Firebase app's project; no credentials needed against
    the emulators (ours is removed again, as other tests initialise their own apps)."""
    ours = firebase_admin._DEFAULT_APP_NAME not in firebase_admin._apps
    if ours:
        credential = cast(Any, AnonymousCredentials())
        firebase_admin.initialize_app(credential, {"projectId": PROJECT_ID})
    yield
    if ours:
        firebase_admin.delete_app(firebase_admin.get_app())


@pytest.fixture(scope="module", autouse=True)
def _stop_publisher() -> Iterator[None]:
    yield
    if main._publisher is not None:
        main._publisher.stop()
        main._publisher = None


def raw_document(client: firestore.Client, path: str) -> firestore_events.Document:
    """The document as Firestore stores it (fields, create and update time), re-read as the
    type of the events' payload: the same protobuf message."""
    name = f"{client._database_string}/documents/{path}"
    stored = client._firestore_api.get_document(request={"name": name})
    return firestore_events.Document.deserialize(type(stored).serialize(stored))


def event(
    path: str,
    before: firestore_events.Document | None,
    after: firestore_events.Document | None,
    *,
    event_id: str | None = None,
    time: datetime | None = None,
) -> CloudEvent:
    """What Eventarc delivers for a Firestore write: protobuf data and these attributes."""
    data = firestore_events.DocumentEventData(value=after, old_value=before)
    # The event's time is the commit's: the new update_time of a write.
    at = time or cast(DatetimeWithNanoseconds, after.update_time if after else None)
    attributes = {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "type": WRITTEN,
        "source": f"//firestore.googleapis.com/projects/{PROJECT_ID}/databases/(default)",
        "subject": f"documents/{path}",
        "time": at.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/protobuf",
        "location": "eur3",
        "project": PROJECT_ID,
        "database": "(default)",
        "namespace": "(default)",
        "document": path,
    }
    return CloudEvent(attributes, firestore_events.DocumentEventData.serialize(data))


def deliver(trigger: Any, raw: CloudEvent) -> None:
    # Deployed, the decorated function is the entry point and takes the raw CloudEvent.
    cast(Trigger, trigger)(raw)
