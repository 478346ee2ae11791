"""Every document of a seeded legacy dataset maps, or is quarantined for the reason the layout
gives its drift (docs/migration/legacy-firestore.md, "Drift")."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from google.cloud import firestore

from migration.firestore.layout import QuarantineReason
from migration.firestore.mapping import blocklists, devices, focus_sessions, schedules, usage, users
from migration.firestore.mapping.common import MappingContext, Unmappable
from migration.legacy.dataset import EPOCH
from migration.legacy.layout import (
    BLOCKLISTS,
    DEVICES,
    SCHEDULES,
    SESSIONS,
    SUBCOLLECTIONS,
    USAGE,
    USERS,
    DriftKind,
)
from migration.legacy.seed import seed
from tests.integration.migration.legacy_data import drift_by_path
from tests.support.firestore_emulator import FirestoreEmulator

SEED, USER_COUNT, SHARE = 11, 40, 0.3
MAPPINGS: dict[str, Any] = {
    USERS: users,
    DEVICES: devices,
    BLOCKLISTS: blocklists,
    SCHEDULES: schedules,
    SESSIONS: focus_sessions,
    USAGE: usage,
}
DOCUMENTED = set(QuarantineReason)
PRESCRIBED: dict[DriftKind, dict[str, QuarantineReason]] = {
    DriftKind.WRONG_TYPE: {c: QuarantineReason.WRONG_TYPE for c in SUBCOLLECTIONS},
    DriftKind.BLOCKLIST_MISSING: {SCHEDULES: QuarantineReason.MISSING_BLOCKLIST},
    DriftKind.DANGLING_BLOCKLIST: {SCHEDULES: QuarantineReason.DANGLING_BLOCKLIST},
    DriftKind.ORPHAN_OF_DELETED_USER: {
        c: QuarantineReason.ORPHAN_OF_DELETED_USER for c in SUBCOLLECTIONS
    },
}
"""The quarantine each kind of drift calls for, per collection; every other kind maps."""


@pytest.fixture
def client(firestore_emulator: FirestoreEmulator) -> firestore.Client:
    firestore_emulator.reset()
    return firestore_emulator.client()


def test_every_seeded_document_maps_or_is_quarantined_as_its_drift_prescribes(
    client: firestore.Client,
) -> None:
    report = seed(client, USER_COUNT, seed=SEED, drift=SHARE)
    kinds = drift_by_path(SEED, USER_COUNT, SHARE)
    snapshots: dict[str, list[Any]] = {USERS: list(client.collection(USERS).stream())}
    for name in SUBCOLLECTIONS:
        snapshots[name] = list(client.collection_group(name).stream())
    assert sum(map(len, snapshots.values())) == report.total == len(kinds)
    outcomes: dict[str, QuarantineReason | None] = {}
    uids = {snap.id for snap in snapshots[USERS]}
    mapped_devices: dict[str, list[Any]] = {}
    mapped_blocklists: dict[str, set[Any]] = {}

    def run(name: str, snap: Any, **context: Any) -> Any:
        uid = snap.reference.path.split("/")[1]
        try:
            entity = MAPPINGS[name].from_document(
                uid,
                snap.id,
                snap.to_dict(),
                create_time=snap.create_time,
                update_time=snap.update_time,
                context=MappingContext(as_of=EPOCH, user_exists=uid in uids, **context),
            )
        except Unmappable as unmappable:
            outcomes[snap.reference.path] = unmappable.reason
            return None
        outcomes[snap.reference.path] = None
        return entity

    for name in (DEVICES, BLOCKLISTS):
        for snap in snapshots[name]:
            if (entity := run(name, snap)) is not None:
                if name == DEVICES:
                    mapped_devices.setdefault(entity.user_id, []).append(entity)
                else:
                    mapped_blocklists.setdefault(entity.user_id, set()).add(entity.id)
    timezones: dict[str, str] = {}
    for snap in snapshots[USERS]:
        seen = sorted(mapped_devices.get(snap.id, []), key=lambda d: d.last_seen_at, reverse=True)
        zones = tuple(d.timezone for d in seen if d.timezone)
        timezones[snap.id] = run(USERS, snap, device_timezones=zones).timezone
    for name in (SCHEDULES, SESSIONS, USAGE):
        for snap in snapshots[name]:
            uid = snap.reference.path.split("/")[1]
            run(
                name,
                snap,
                user_timezone=timezones.get(uid),
                blocklist_ids=frozenset(mapped_blocklists.get(uid, set())),
            )

    quarantined_blocklists = {p for p, r in outcomes.items() if r and "/blocklists/" in p}
    for path, reason in outcomes.items():
        collection = path.split("/")[-2]
        allowed = {
            PRESCRIBED[k][collection] for k in kinds[path] if collection in PRESCRIBED.get(k, {})
        }
        if collection == SCHEDULES and quarantined_blocklists:
            allowed.add(QuarantineReason.DANGLING_BLOCKLIST)  # its blocklist may be quarantined
        if reason is None:
            assert not allowed - {QuarantineReason.DANGLING_BLOCKLIST}, (path, kinds[path])
        else:
            assert reason in allowed, (path, reason, kinds[path])
            assert reason in DOCUMENTED
    clean = [path for path, drifted in kinds.items() if not drifted]
    assert clean
    assert all(outcomes[path] is None for path in clean if "/schedules/" not in path)
    reasons = Counter(reason for reason in outcomes.values() if reason)
    assert (
        reasons[QuarantineReason.ORPHAN_OF_DELETED_USER] == report.drift["orphan_of_deleted_user"]
    )
    assert reasons[QuarantineReason.WRONG_TYPE] > 0
    # A schedule drifted twice is quarantined for the first failure found (its days, say).
    assert 0 < reasons[QuarantineReason.MISSING_BLOCKLIST] <= report.drift["blocklist_missing"]
