"""The contract section of docs/exports.md is generated from domain/growth/contract.py: this
test fails when the committed section differs from what `render_contract()` makes of the
contract, and prints the fresh section to paste between the markers. It can also be printed
with `python -m tests.integration.growth.test_exports_doc`."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.growth.contract import CONTRACT_VERSION, DATASETS, ColumnType, Dataset

DOC = Path(__file__).resolve().parents[3] / "docs" / "exports.md"
START = "<!-- contract:start -->"
END = "<!-- contract:end -->"

BIGQUERY_TYPES = {
    ColumnType.STRING: "STRING",
    ColumnType.INT32: "INT64",
    ColumnType.INT64: "INT64",
    ColumnType.BOOL: "BOOL",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.STRINGS: "ARRAY<STRING>",
}
"""How BigQuery's tables over the files show each Parquet type (lists as arrays)."""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _dataset(dataset: Dataset) -> list[str]:
    lines = [
        f"### `{dataset.name}`",
        "",
        f"{dataset.meaning[:1].upper()}{dataset.meaning[1:]}. Files: "
        f"`growth/v{CONTRACT_VERSION}/{dataset.name}/{dataset.partition}=YYYY-MM-DD/`, "
        f"partitioned by `{dataset.partition}`.",
        "",
        "| column | type | BigQuery | null | meaning |",
        "|---|---|---|---|---|",
    ]
    for column in dataset.columns:
        lines.append(
            f"| `{column.name}` | `{column.type.value}` | `{BIGQUERY_TYPES[column.type]}` "
            f"| {'may be' if column.nullable else 'never'} | {_cell(column.meaning)} |"
        )
    return lines


def render_contract() -> str:
    """The contract section of docs/exports.md, markers excluded."""
    lines = [
        "<!-- Generated from domain/growth/contract.py by"
        " tests/integration/growth/test_exports_doc.py: do not edit by hand. -->",
        "",
        f"Contract version {CONTRACT_VERSION}. Columns come in this order in every file; a "
        "column that is not listed here is never written.",
    ]
    for dataset in DATASETS:
        lines += ["", *_dataset(dataset)]
    return "\n".join(lines)


def committed_contract() -> str:
    text = DOC.read_text()
    assert text.count(START) == text.count(END) == 1, f"{DOC} needs one {START} … {END}"
    return text.split(START, 1)[1].split(END, 1)[0].strip("\n")


def test_the_docs_contract_section_is_the_contract() -> None:
    fresh = render_contract()
    if committed_contract() != fresh:
        pytest.fail(
            f"docs/exports.md's contract section differs from domain/growth/contract.py;"
            f" paste this between {START} and {END}:\n\n{fresh}\n",
            pytrace=False,
        )


def test_every_dataset_and_column_of_the_contract_is_in_the_doc() -> None:
    section = committed_contract()
    for dataset in DATASETS:
        assert f"### `{dataset.name}`" in section
        for column in dataset.columns:
            assert f"| `{column.name}` | `{column.type.value}` |" in section


if __name__ == "__main__":
    print(render_contract())
