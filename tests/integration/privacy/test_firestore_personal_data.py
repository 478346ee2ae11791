"""The legacy Firestore's part of export and erasure, on the Firestore emulator: every document
of a user is counted, read out JSON-ready and erased (recursively, wherever it sits under the
user), and nothing of another user is touched."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from google.cloud import firestore
from google.cloud.firestore import GeoPoint

from domain.user_data import REGISTRY, DataStore, UserData, in_store
from migration.privacy import BATCH, FirestorePersonalData
from tests.support.firestore_emulator import FirestoreEmulator

pytestmark = pytest.mark.anyio

ENTRIES = {entry.name: entry for entry in in_store(DataStore.FIRESTORE)}
WHEN = dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC)
EXPECTED_COUNTS = {
    "firestore_users": 2,  # the profile and somethingElse/x
    "firestore_devices": 2,
    "firestore_blocklists": 2,  # one of them a tombstone
    "firestore_schedules": 2,  # s1 and s1/runs/r1
    "firestore_sessions": 2,  # f1 and ghost/laps/l1 (below a missing document)
    "firestore_usage": 1,
}


@pytest.fixture
async def personal_data(
    firestore_emulator: FirestoreEmulator,
) -> AsyncIterator[FirestorePersonalData]:
    client = firestore_emulator.async_client()
    yield FirestorePersonalData(client)
    # The gRPC channel belongs to this test's event loop: closed before the loop is.
    api = client._firestore_api_internal
    if api is not None:
        await api.transport.close()


@pytest.fixture
def seed(firestore_emulator: FirestoreEmulator) -> firestore.Client:
    return firestore_emulator.client()


def seed_user(client: firestore.Client, uid: str) -> None:
    """A legacy user with documents in every collection of the layout, a nested subcollection,
    a document below a missing one, and a subcollection the layout does not know."""
    user = client.collection("users").document(uid)
    user.set(
        {
            "displayName": f"Ada {uid}",
            "createdAt": WHEN,
            "favourite": user.collection("blocklists").document("b1"),
            "avatar": b"\x01\xff",
            "home": GeoPoint(51.5, -0.12),
            "goals": {"since": WHEN, "days": [WHEN, {"raw": b"\x00"}], "minutes": 90},
        }
    )
    for path, data in {
        "devices/d1": {"platform": "ios", "pushToken": "t1"},
        "devices/d2": {"platform": "android"},
        "blocklists/b1": {"name": "Social", "apps": ["com.example"]},
        "blocklists/b2": {"name": "Old", "deletedAt": WHEN},
        "schedules/s1": {"name": "Work", "blocklist": user.collection("blocklists").document("b1")},
        "schedules/s1/runs/r1": {"startedAt": WHEN},
        "sessions/f1": {"startedAt": WHEN, "minutes": 25},
        "sessions/ghost/laps/l1": {"lap": 1},
        "usage/2026-03-01_inst": {"minutes": 120},
        "somethingElse/x": {"note": "written by an old bug"},
    }.items():
        user.collection(path.split("/")[0]).document("/".join(path.split("/")[1:])).set(data)


async def read_all(data: FirestorePersonalData, entry: UserData, uid: str) -> list[Any]:
    return [dict(record) async for record in data.read(entry, uid)]


async def counts(data: FirestorePersonalData, uid: str) -> dict[str, int]:
    return {name: await data.count(entry, uid) for name, entry in ENTRIES.items()}


def uid() -> str:
    return f"user-{secrets.token_hex(6)}"


async def test_every_document_of_the_user_is_counted_and_read_out_json_ready(
    personal_data: FirestorePersonalData, seed: firestore.Client
) -> None:
    ada, other = uid(), uid()
    seed_user(seed, ada)
    seed_user(seed, other)

    assert await counts(personal_data, ada) == EXPECTED_COUNTS
    read = {name: await read_all(personal_data, e, ada) for name, e in ENTRIES.items()}

    assert {name: len(records) for name, records in read.items()} == EXPECTED_COUNTS
    json.dumps(read)  # JSON-ready throughout
    profile, unknown = read["firestore_users"]
    assert profile == {
        "id": ada,
        "displayName": f"Ada {ada}",
        "createdAt": "2026-03-01T08:30:00+00:00",
        "favourite": f"users/{ada}/blocklists/b1",
        "avatar": "01ff",
        "home": {"latitude": 51.5, "longitude": -0.12},
        "goals": {
            "since": "2026-03-01T08:30:00+00:00",
            "days": ["2026-03-01T08:30:00+00:00", {"raw": "00"}],
            "minutes": 90,
        },
    }
    assert unknown == {"id": "somethingElse/x", "note": "written by an old bug"}
    assert [r["id"] for r in read["firestore_devices"]] == ["d1", "d2"]
    assert [r["id"] for r in read["firestore_schedules"]] == ["s1", "s1/runs/r1"]
    assert read["firestore_schedules"][0]["blocklist"] == f"users/{ada}/blocklists/b1"
    assert [r["id"] for r in read["firestore_sessions"]] == ["f1", "ghost/laps/l1"]
    assert read["firestore_blocklists"][1] == {
        "id": "b2",
        "name": "Old",
        "deletedAt": "2026-03-01T08:30:00+00:00",
    }


async def test_erasure_removes_everything_under_the_user_and_nothing_of_another(
    personal_data: FirestorePersonalData, seed: firestore.Client
) -> None:
    ada, other = uid(), uid()
    seed_user(seed, ada)
    seed_user(seed, other)

    schedules = await personal_data.erase(ENTRIES["firestore_schedules"], ada)
    everything_else = await personal_data.erase(ENTRIES["firestore_users"], ada)

    assert schedules == 2
    assert everything_else == sum(EXPECTED_COUNTS.values()) - 2
    user = seed.collection("users").document(ada)
    assert not user.get().exists
    assert list(user.collections()) == []
    assert await counts(personal_data, ada) == dict.fromkeys(ENTRIES, 0)
    assert await counts(personal_data, other) == EXPECTED_COUNTS
    assert seed.document(f"users/{other}/somethingElse/x").get().exists


async def test_erasing_again_finds_nothing(
    personal_data: FirestorePersonalData, seed: firestore.Client
) -> None:
    ada = uid()
    seed_user(seed, ada)

    first = {name: await personal_data.erase(entry, ada) for name, entry in ENTRIES.items()}
    second = {name: await personal_data.erase(entry, ada) for name, entry in ENTRIES.items()}

    assert sum(first.values()) == sum(EXPECTED_COUNTS.values())
    assert second == dict.fromkeys(ENTRIES, 0)
    assert [await read_all(personal_data, e, ada) for e in ENTRIES.values()] == [[]] * len(ENTRIES)


async def test_a_collection_larger_than_one_batch_is_erased_whole(
    personal_data: FirestorePersonalData, seed: firestore.Client
) -> None:
    ada, many = uid(), BATCH * 2 + 7
    usage = seed.collection("users").document(ada).collection("usage")
    for start in range(0, many, BATCH):
        batch = seed.batch()
        for day in range(start, min(start + BATCH, many)):
            batch.set(usage.document(f"day-{day:04}"), {"minutes": day})
        batch.commit()
    entry = ENTRIES["firestore_usage"]

    assert await personal_data.count(entry, ada) == many
    assert await personal_data.erase(entry, ada) == many
    assert await personal_data.count(entry, ada) == 0


async def test_an_entry_of_another_store_is_refused(
    personal_data: FirestorePersonalData,
) -> None:
    postgres_users = next(e for e in REGISTRY if e.store is DataStore.POSTGRES)

    with pytest.raises(ValueError, match="not a Firestore entry"):
        await personal_data.erase(postgres_users, uid())
