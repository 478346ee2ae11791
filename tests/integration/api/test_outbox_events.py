"""Every change records its event in the outbox, in the same transaction; nothing else does."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.testclient import TestClient

from datastore.postgres.repositories.outbox import PostgresEventOutbox
from domain.common import new_id
from domain.events import EventType
from tests.conftest import ApiUser

BLOCKLIST = {"name": "Social", "items": [{"kind": "web_domain", "value": "instagram.com"}]}
DEVICE = {"platform": "android", "app_version": "4.2.0"}


def events(database_url: str, user: ApiUser) -> list[tuple[str, str, int]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT type, subject_id, record_version FROM outbox_events"
            " WHERE user_id = %s ORDER BY id",
            (user.uid,),
        )
        return [(str(t), str(s), int(v)) for t, s, v in rows]


Recorded = Callable[[], list[tuple[str, str, int]]]


@pytest.fixture
def outbox(database_url: str, alice: ApiUser) -> Recorded:
    """Alice's outbox events so far: (type, subject, record version), in order."""
    return lambda: events(database_url, alice)


def test_a_blocklist_lifecycle_records_created_updated_deleted(
    client: TestClient, alice: ApiUser, outbox: Recorded
) -> None:
    created = client.post("/v1/blocklists", headers=alice.headers, json=BLOCKLIST).json()
    updated = client.patch(
        f"/v1/blocklists/{created['id']}", headers=alice.headers, json={"name": "Feeds"}
    ).json()
    client.delete(f"/v1/blocklists/{created['id']}", headers=alice.headers)

    recorded = outbox()

    assert [(t, s) for t, s, _ in recorded] == [
        ("blocklist.created", created["id"]),
        ("blocklist.updated", created["id"]),
        ("blocklist.deleted", created["id"]),
    ]
    assert recorded[0][2] == created["version"]
    assert recorded[1][2] == updated["version"]
    assert recorded[0][2] < recorded[1][2] < recorded[2][2]


def test_a_focus_session_records_started_then_completed(
    client: TestClient, alice: ApiUser, outbox: Recorded
) -> None:
    started_at = datetime.now(UTC) - timedelta(minutes=30)
    session_id = str(uuid.uuid4())
    body = {"id": session_id, "planned_duration_minutes": 25, "started_at": started_at.isoformat()}
    client.post("/v1/focus-sessions", headers=alice.headers, json=body)
    end = {"outcome": "completed", "ended_at": (started_at + timedelta(minutes=25)).isoformat()}
    client.post(f"/v1/focus-sessions/{session_id}/end", headers=alice.headers, json=end)

    assert [(t, s) for t, s, _ in outbox()] == [
        ("focus_session.started", session_id),
        ("focus_session.completed", session_id),
    ]


def test_devices_and_profile_record_their_changes(
    client: TestClient, alice: ApiUser, outbox: Recorded
) -> None:
    client.put("/v1/devices/pixel-000001", headers=alice.headers, json=DEVICE)
    client.put("/v1/devices/pixel-000001", headers=alice.headers, json=DEVICE)  # a check-in
    client.put(
        "/v1/devices/pixel-000001", headers=alice.headers, json={**DEVICE, "app_version": "4.3.0"}
    )
    client.patch("/v1/me", headers=alice.headers, json={"timezone": "Asia/Tokyo"})
    today = datetime.now(UTC).date().isoformat()  # never ahead of Tokyo's date
    usage = {"installation_id": "pixel-000001", "total_minutes": 90, "pickups": 40}
    client.put(f"/v1/usage/{today}", headers=alice.headers, json=usage)
    client.delete("/v1/devices/pixel-000001", headers=alice.headers)

    assert [(t, s) for t, s, _ in outbox()] == [
        ("device.registered", "pixel-000001"),
        ("device.updated", "pixel-000001"),
        ("profile.updated", alice.uid),
        ("usage.reported", f"{today}/pixel-000001"),
        ("device.removed", "pixel-000001"),
    ]


def test_refused_and_replayed_writes_record_nothing(
    client: TestClient, alice: ApiUser, outbox: Recorded
) -> None:
    keyed = alice.with_headers(Idempotency_Key="once")
    client.post("/v1/blocklists", headers=keyed, json=BLOCKLIST)
    client.post("/v1/blocklists", headers=keyed, json=BLOCKLIST)  # replayed
    client.patch("/v1/me", headers=alice.headers, json={"timezone": "Mars/Olympus"})  # refused
    client.patch("/v1/me", headers=alice.with_headers(If_Match='"v999"'), json={"locale": "de"})

    assert [t for t, _, _ in outbox()] == ["blocklist.created"]


@pytest.mark.anyio
async def test_an_outbox_row_of_an_undeclared_type_waits_and_holds_back_no_other_event(
    client: TestClient, alice: ApiUser, engine: AsyncEngine
) -> None:
    """A row written by a version that declares more types (met by an older relay during a
    rollout, or after a rollback) is neither published as something else nor in the way."""
    client.get("/v1/me", headers=alice.headers)  # the user exists
    unknown, known = new_id(), new_id()
    async with engine.connect() as connection:  # rolled back: no other relay ever sees them
        for event_id, event_type in ((unknown, "blocklist.renamed"), (known, "profile.updated")):
            await connection.execute(
                text(
                    "INSERT INTO outbox_events (id, user_id, type, schema_version, subject_id,"
                    " record_version, payload, occurred_at)"
                    " VALUES (:id, :uid, :type, 1, 'b-1', 1, '{}', now())"
                ),
                {"id": event_id, "uid": alice.uid, "type": event_type},
            )
        outbox = PostgresEventOutbox(connection)

        claimed = {event.id: event.type for event in await outbox.claim_pending(100_000)}

        assert unknown not in claimed
        assert claimed[known] is EventType.PROFILE_UPDATED
        assert await outbox.first_waiting_at() is not None  # the lag still counts it
        await connection.rollback()
