"""The export contract (domain/growth/contract.py) and its enforcement when files are built:
no column outside it is ever written, none of what identifies a person is in it."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.growth.contract import (
    DATASETS,
    FOCUS_SESSIONS,
    FORBIDDEN_COLUMNS,
    USERS,
    ColumnType,
    Dataset,
)
from exports.parquet import ContractViolation, record_batch, schema_of


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_every_dataset_is_partitioned_by_a_date_and_names_no_person(dataset: Dataset) -> None:
    names = dataset.column_names
    assert len(set(names)) == len(names)
    assert dataset.column(dataset.partition).type is ColumnType.DATE
    assert not set(names) & FORBIDDEN_COLUMNS
    assert {"pseudonym", "change"} <= set(names)
    assert all(c.meaning for c in dataset.columns)


def _session_batch(**extra: list[object]) -> dict[str, list[object]]:
    return {
        "pseudonym": ["p"], "record": ["r" * 64], "change": [7],
        "deleted": [False], "date": [dt.date(2026, 6, 15)], "local_start_hour": [9],
        "planned_minutes": [25], "actual_minutes": [None], "mode": ["normal"], "outcome": [None],
    } | extra  # fmt: skip


def test_a_batch_becomes_the_contracts_columns_in_the_contracts_order() -> None:
    given = dict(reversed(list(_session_batch().items())))

    batch = record_batch(FOCUS_SESSIONS, schema_of(FOCUS_SESSIONS), given)

    assert tuple(batch.schema.names) == FOCUS_SESSIONS.column_names
    assert batch.column("record").to_pylist() == ["r" * 64]


def test_a_column_outside_the_contract_is_refused() -> None:
    with pytest.raises(ContractViolation, match=r"not in the contract \['user_id'\]"):
        record_batch(FOCUS_SESSIONS, schema_of(FOCUS_SESSIONS), _session_batch(user_id=["u"]))


def test_a_missing_column_is_refused() -> None:
    with pytest.raises(ContractViolation, match=r"missing \['goal_minutes'\]"):
        record_batch(USERS, schema_of(USERS), {c: [None] for c in USERS.column_names[:-2]}
                     | {"date": [None]})  # fmt: skip
