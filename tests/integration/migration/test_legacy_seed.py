"""`focus legacy seed` writes the Firebase app's layout, drift included, into the emulator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google.api_core.exceptions import ServiceUnavailable
from google.cloud import firestore
from typer.testing import CliRunner

from app.cli import cli
from migration.legacy.dataset import EPOCH
from migration.legacy.layout import SUBCOLLECTIONS, USERS, DriftKind
from migration.legacy.seed import orphan_count, seed
from tests.support.firestore_emulator import FirestoreEmulator

Dump = dict[str, dict[str, Any]]


@pytest.fixture
def client(firestore_emulator: FirestoreEmulator) -> Iterator[firestore.Client]:
    firestore_emulator.reset()
    yield firestore_emulator.client()
    firestore_emulator.reset()


def dump(client: firestore.Client) -> Dump:
    """Every document by path, references as ("ref", path) and instants as ISO strings."""
    snapshots = list(client.collection(USERS).stream())
    for name in SUBCOLLECTIONS:
        snapshots += client.collection_group(name).stream()
    return {snap.reference.path: _plain(snap.to_dict()) for snap in snapshots}


def _plain(value: Any) -> Any:
    if isinstance(value, firestore.DocumentReference):
        return ("ref", value.path)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def of(docs: Dump, collection: str) -> list[tuple[str, dict[str, Any]]]:
    return [(path, data) for path, data in docs.items() if path.split("/")[-2] == collection]


def test_the_same_seed_writes_the_same_documents(
    client: firestore.Client, firestore_emulator: FirestoreEmulator
) -> None:
    first_report = seed(client, 12, seed=7, drift=0.3)
    first = dump(client)
    firestore_emulator.reset()
    second_report = seed(client, 12, seed=7, drift=0.3)

    assert dump(client) == first
    assert second_report == first_report
    assert len(first) == first_report.total


def test_another_seed_writes_other_users(client: firestore.Client) -> None:
    seed(client, 5, seed=1)
    ones = dump(client)
    seed(client, 5, seed=2)

    both = dump(client)

    assert len(both) > len(ones)
    assert {p.split("/")[1] for p in ones}.isdisjoint({p.split("/")[1] for p in both.keys() - ones})


def test_more_users_keep_the_first_users_as_they_were(
    client: firestore.Client, firestore_emulator: FirestoreEmulator
) -> None:
    seed(client, 3, seed=5, drift=0.2)
    few = dump(client)
    firestore_emulator.reset()
    seed(client, 6, seed=5, drift=0.2)

    many = dump(client)

    first_users = {p.split("/")[1] for p in few if p.count("/") == 1}
    assert {p: d for p, d in many.items() if p.split("/")[1] in first_users} == {
        p: d for p, d in few.items() if p.split("/")[1] in first_users
    }


DETECTORS: dict[DriftKind, Callable[[str, dict[str, Any], Dump], bool]] = {
    DriftKind.EPOCH_MILLIS_TIMESTAMP: lambda _, d, __: isinstance(d.get("createdAt"), int),
    DriftKind.ISO_STRING_TIMESTAMP: lambda _, d, __: str(d.get("updatedAt")).endswith("Z"),
    DriftKind.MISSING_TIMEZONE: lambda p, d, __: "/schedules/" in p and "timezone" not in d,
    DriftKind.MISSING_FIELD: lambda p, d, __: "/devices/" in p and "appVersion" not in d,
    DriftKind.PLATFORM_CASING: lambda _, d, __: d.get("platform") in ("iOS", "ANDROID"),
    DriftKind.DAYS_AS_INTS: lambda _, d, __: any(isinstance(x, int) for x in d.get("days", [])),
    DriftKind.GOAL_AS_STRING: lambda _, d, __: isinstance(d.get("dailyGoalMinutes"), str),
    DriftKind.BLOCKLIST_AS_ID_STRING: lambda _, d, __: isinstance(d.get("blocklist"), str),
    DriftKind.BLOCKLIST_MISSING: lambda p, d, __: "/schedules/" in p and "blocklist" not in d,
    DriftKind.DANGLING_BLOCKLIST: lambda _, d, docs: (
        isinstance(d.get("blocklist"), tuple) and d["blocklist"][1] not in docs
    ),
    DriftKind.UNKNOWN_FIELDS: lambda _, d, __: "abBucket" in d or "legacyClient" in d,
    DriftKind.STALE_RUNNING_SESSION: lambda _, d, __: (
        d.get("status") == "running"
        and isinstance(d.get("startedAt"), str)
        and dt.datetime.fromisoformat(d["startedAt"]) < EPOCH - dt.timedelta(days=60)
    ),
    DriftKind.WRONG_TYPE: lambda _, d, __: d.get("days") == "weekdays",
    DriftKind.ORPHAN_OF_DELETED_USER: lambda p, _, docs: f"users/{p.split('/')[1]}" not in docs,
}


def test_every_kind_of_drift_is_written_at_a_drift_of_thirty_percent(
    client: firestore.Client,
) -> None:
    report = seed(client, 50, seed=11, drift=0.3)
    docs = dump(client)

    found = {
        kind for kind, seen in DETECTORS.items() if any(seen(p, d, docs) for p, d in docs.items())
    }

    assert set(DETECTORS) == set(DriftKind)
    assert found == set(DriftKind)
    assert all(report.drift[kind] > 0 for kind in DriftKind), report.drift


def test_without_drift_every_document_keeps_to_the_layout(client: firestore.Client) -> None:
    report = seed(client, 10, seed=3, drift=0.0)
    docs = dump(client)

    assert {k: v for k, v in report.drift.items() if v} == {
        DriftKind.ORPHAN_OF_DELETED_USER: report.drift[DriftKind.ORPHAN_OF_DELETED_USER]
    }
    assert all(isinstance(d["createdAt"], str) for _, d in docs.items())  # Timestamps
    assert all(isinstance(d["blocklist"], tuple) for _, d in of(docs, "schedules"))
    assert all(d["platform"] in ("ios", "android") for _, d in of(docs, "devices"))


def test_orphans_are_documents_of_users_whose_profile_is_gone(client: firestore.Client) -> None:
    report = seed(client, 50, seed=4)
    docs = dump(client)

    orphaned = {p.split("/")[1] for p in docs if f"users/{p.split('/')[1]}" not in docs}

    assert len(orphaned) == report.orphan_users == orphan_count(50) == 2
    assert report.drift[DriftKind.ORPHAN_OF_DELETED_USER] == sum(
        1 for p in docs if p.split("/")[1] in orphaned
    )
    assert report.documents[USERS] == 50


def test_the_cli_seeds_the_emulator(
    client: firestore.Client, firestore_emulator: FirestoreEmulator
) -> None:
    no_project: dict[str, str | None] = dict.fromkeys(
        ("GOOGLE_CLOUD_PROJECT", "FOCUS_FIREBASE_PROJECT_ID", "FIREBASE_PROJECT_ID", "FOCUS_ENV")
    )
    env = no_project | {"FIRESTORE_EMULATOR_HOST": firestore_emulator.host}

    result = CliRunner().invoke(cli, ["legacy", "seed", "--users", "4", "--seed", "9"], env=env)

    assert result.exit_code == 0, result.output
    assert "project demo-focus" in result.output
    assert f"documents: {len(dump(client))}" in result.output
    assert sum(1 for p in dump(client) if p.count("/") == 1) == 4


@pytest.mark.parametrize(
    ("env", "refusal"),
    [
        ({"FIRESTORE_EMULATOR_HOST": None}, "FIRESTORE_EMULATOR_HOST is not set"),
        ({"FOCUS_ENV": "production"}, "refused when FOCUS_ENV=production"),
    ],
)
def test_the_cli_refuses_to_seed_outside_the_emulator(
    client: firestore.Client, env: dict[str, str | None], refusal: str
) -> None:
    result = CliRunner().invoke(cli, ["legacy", "seed", "--users", "2"], env=env)

    assert result.exit_code == 2
    assert refusal in result.output
    assert dump(client) == {}


def test_a_stopped_emulator_refuses_writes_and_comes_back_with_its_data(
    client: firestore.Client, firestore_emulator: FirestoreEmulator
) -> None:
    seed(client, 2, seed=6)
    before = dump(client)

    with firestore_emulator.outage(), pytest.raises(ServiceUnavailable):
        client.document("users/anyone").set({"x": 1}, retry=None, timeout=5)

    assert dump(client) == before
