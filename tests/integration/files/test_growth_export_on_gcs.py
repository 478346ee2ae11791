"""A growth export written to the GCS emulator: the files are read back with pyarrow and
DuckDB, the manifest's checksums hold, and nothing is left under the staging prefix."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime

import duckdb
import pyarrow
import pyarrow.parquet as pq

from datastore.files.gcs import GcsFileStore
from domain.growth.contract import FOCUS_SESSIONS
from exports.runner import GrowthExporter
from tests.integration.files.test_file_stores import _read
from tests.integration.growth.conftest import Growth, growth  # noqa: F401 (a fixture)
from tests.integration.growth.test_growth_exports import seed
from tests.support.clock import TestClock


def test_an_export_to_the_bucket_reads_back_whole(
    growth: Growth,  # noqa: F811
    gcs_store: GcsFileStore,
    clock: TestClock,
) -> None:
    clock.set(datetime(2026, 6, 15, 12, tzinfo=UTC))
    seed(growth, growth.user(), consent=True)
    seed(growth, growth.user(), consent=True)
    exporter = GrowthExporter(growth.exporter.store, gcs_store, clock)

    (done,) = growth.call(exporter.run, ["focus_sessions"])

    keys = growth.call(gcs_store.list, "growth/")
    (manifest_key,) = [k for k in keys if k.startswith("growth/v1/_manifests/")]
    manifest = json.loads(growth.call(_read, gcs_store, manifest_key))
    tables = []
    for entry in manifest["files"]:
        data = growth.call(_read, gcs_store, entry["key"])
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        tables.append(pq.read_table(io.BytesIO(data)))
    assert not [k for k in keys if k.startswith("growth/_staging/")]
    assert done.rows == manifest["rows"] == sum(t.num_rows for t in tables) == 2
    in_files = tuple(n for n in FOCUS_SESSIONS.column_names if n != FOCUS_SESSIONS.partition)
    assert all(tuple(t.schema.names) == in_files for t in tables)
    with duckdb.connect() as db:
        db.register("sessions", pyarrow.concat_tables(tables))
        planned = db.execute("SELECT sum(planned_minutes) FROM sessions").fetchall()
    assert planned == [(50,)]
