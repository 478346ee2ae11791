"""Legacy sync: old app versions' Firestore writes, applied to Postgres (ADR 0012, decision 4).

`functions/` publishes every change under `users/**` to the topic `legacy-changes`; Pub/Sub
pushes each to `/internal/pubsub/legacy-sync`, where `LegacySync.receive` maps the document
with the backfill's mapping and writes it through the repositories, with a new version and the
event an API write records, so the user's other devices sync it. `rules` holds the decision,
`records` what differs per entity.
"""

from migration.legacy_sync.consumer import SUBSCRIPTION, LegacySync
from migration.legacy_sync.rules import Outcome

__all__ = ["SUBSCRIPTION", "LegacySync", "Outcome"]
