"""The Postgres side of the backfill: one transaction per batch of mapped Firestore documents.

Each batch's new rows, its quarantine entries and the entity's checkpoint commit together, so
a run killed at any point resumes after the last committed document, without gaps or
duplicates. A record already in Postgres, live or deleted, is kept unless the document carries
a backend `_v` above the row's version; new rows take their versions from the user's counter.

`store` runs a batch's transaction; `writes` decides and writes its rows, `versions` numbers
them, `columnar` sends them as arrays; `checkpoints` and `quarantine` keep the run's state;
`specs` holds each entity's table and row, `records` what the migration hands over.
"""

from migration.postgres.backfill.records import (
    BackfillRecord,
    Batch,
    Checkpoint,
    QuarantinedDocument,
)
from migration.postgres.backfill.specs import SPECS, RecordSpec
from migration.postgres.backfill.store import PostgresBackfillStore

__all__ = [
    "SPECS",
    "BackfillRecord",
    "Batch",
    "Checkpoint",
    "PostgresBackfillStore",
    "QuarantinedDocument",
    "RecordSpec",
]
