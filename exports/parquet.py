"""The contract as Arrow: each dataset's schema, a source batch turned into a record batch
(the record key made from the person's secret, the secret dropped, nothing else let through),
and Parquet files written the same way every time (ZSTD, fixed row groups, no timestamps)."""

from __future__ import annotations

import io
from collections.abc import Mapping

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from domain.growth.contract import CONTRACT_VERSION, ColumnType, Dataset
from domain.growth.ports import Columns

ROW_GROUP_ROWS = 128 * 1024
_TYPES: Mapping[ColumnType, pa.DataType] = {
    ColumnType.STRING: pa.string(),
    ColumnType.INT32: pa.int32(),
    ColumnType.INT64: pa.int64(),
    ColumnType.BOOL: pa.bool_(),
    ColumnType.DATE: pa.date32(),
    ColumnType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    ColumnType.STRINGS: pa.list_(pa.string()),
}


class ContractViolation(ValueError):
    """A batch with a column the contract does not list, or without one it does."""


def schema_of(dataset: Dataset) -> pa.Schema:
    fields = [pa.field(c.name, _TYPES[c.type], nullable=c.nullable) for c in dataset.columns]
    metadata = {"focus.dataset": dataset.name, "focus.contract_version": str(CONTRACT_VERSION)}
    return pa.schema(fields, metadata=metadata)


def record_batch(dataset: Dataset, schema: pa.Schema, columns: Columns) -> pa.RecordBatch:
    """The contract's columns of a source batch, in the contract's order; nothing else."""
    given = dict(columns)
    if set(given) != set(dataset.column_names):
        extra = sorted(set(given) - set(dataset.column_names))
        missing = sorted(set(dataset.column_names) - set(given))
        raise ContractViolation(f"{dataset.name}: not in the contract {extra}, missing {missing}")
    arrays = [pa.array(given[name], type=schema.field(name).type) for name in schema.names]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


class PartitionWriter:
    """One Parquet file in memory-bounded row groups, written to a local path."""

    def __init__(self, path: str, schema: pa.Schema) -> None:
        self._writer = pq.ParquetWriter(
            path,
            schema,
            compression="zstd",
            use_dictionary=True,
            write_statistics=True,
            store_schema=True,
        )
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch, row_group_size=ROW_GROUP_ROWS)
        self.rows += batch.num_rows

    def close(self) -> None:
        self._writer.close()


def without(data: bytes, pseudonyms: set[str]) -> tuple[bytes, int, int] | None:
    """A Parquet file's bytes without the rows of these pseudonyms, written as the exporter
    writes (None when it holds none of them): (bytes, rows before, rows after)."""
    table = pq.read_table(io.BytesIO(data))
    keep = pc.invert(pc.is_in(table["pseudonym"], value_set=pa.array(sorted(pseudonyms))))
    kept = table.filter(keep)
    if kept.num_rows == table.num_rows:
        return None
    out = io.BytesIO()
    pq.write_table(
        kept, out, compression="zstd", use_dictionary=True, row_group_size=ROW_GROUP_ROWS
    )
    return out.getvalue(), table.num_rows, kept.num_rows
