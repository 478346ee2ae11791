"""An old app version writing straight to Firestore, and the trigger that reports its writes.

`OldApp` writes a document in the Firestore emulator as the Firebase app does (a whole-document
`set`, which drops the backend's `_v` and `_writer`; an `update` of some fields, which keeps
them; a `delete`), then delivers the change as `functions/` publishes it and Pub/Sub pushes it:
the document before and after, Firestore's update time, to `/internal/pubsub/legacy-sync` of
the app under test. One writer at a time per document: `before` is read just before the write.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from google.cloud import firestore
from starlette.testclient import TestClient

from functions import main as trigger
from functions.legacy_change import LegacyChange, encode_change

Document = dict[str, Any]


def legacy_sync_push(
    data: bytes,
    attributes: Mapping[str, str],
    *,
    message_id: str | None = None,
    attempt: int | None = None,
) -> dict[str, Any]:
    """The body Pub/Sub's push subscription `legacy-sync` posts for a message of `data` (a
    redelivery keeps its message id and counts its `deliveryAttempt`)."""
    message = {
        "data": base64.b64encode(data).decode(),
        "attributes": dict(attributes),
        "messageId": message_id or uuid.uuid4().hex,
        "publishTime": "2026-12-03T09:00:00Z",
    }
    body: dict[str, Any] = {"message": message, "subscription": "legacy-sync"}
    if attempt is not None:
        body["deliveryAttempt"] = attempt
    return body


def encoded(change: LegacyChange) -> bytes:
    """`change` as `functions/` publishes it."""
    return encode_change(change, trigger._firestore_value)


@dataclass
class OldApp:
    client: TestClient
    """The app under test: the legacy-sync push endpoint is served there."""
    firestore: firestore.Client

    def set(self, path: str, document: Document) -> LegacyChange:
        """A whole-document write, as the Firebase app saves a record."""
        return self._write(path, lambda ref: ref.set(document))

    def update(self, path: str, fields: Document) -> LegacyChange:
        """Some fields changed, the others (the backend's markers too) kept."""
        return self._write(path, lambda ref: ref.update(fields))

    def delete(self, path: str) -> LegacyChange:
        return self._write(path, lambda ref: ref.delete())

    def document(self, path: str) -> Document | None:
        return self.firestore.document(path).get().to_dict()

    def deliver(self, change: LegacyChange) -> int:
        """Pushes `change` as Pub/Sub would; the endpoint's status."""
        body = legacy_sync_push(encoded(change), change.attributes)
        return self.client.post("/internal/pubsub/legacy-sync", json=body).status_code

    def _write(self, path: str, write: Any) -> LegacyChange:
        reference = self.firestore.document(path)
        before = reference.get()
        written = write(reference)  # a WriteResult, or the time of a delete
        after = reference.get()
        update_time: datetime = getattr(written, "update_time", written)
        return LegacyChange.of(
            path=path,
            before=before.to_dict(),
            after=after.to_dict(),
            update_time=update_time,
            create_time=after.create_time or before.create_time,
            event_id=str(uuid.uuid4()),
        )

    def change_of_backend_write(self, path: str, before: Document | None) -> LegacyChange:
        """The change a write of the backend's (already made) reports: the trigger fires on
        every write of the document, the backend's mirrors included."""
        after = self.firestore.document(path).get()
        return LegacyChange.of(
            path=path,
            before=before,
            after=after.to_dict(),
            update_time=after.update_time,
            create_time=after.create_time,
            event_id=str(uuid.uuid4()),
        )
