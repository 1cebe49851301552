"""Metadata that makes assets readable in the Dagster UI: column schemas and Markdown previews."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dagster as dg
import polars as pl

from segmentation_pipeline.contracts import PERSONAL_COLUMNS
from segmentation_pipeline.contracts.tables import TableContract
from segmentation_pipeline.warehouse.tables import contract_violations, duckdb_type, query_frame

CONTRACT_CHECK = "matches_contract"


def column_schema(
    columns: Mapping[str, pl.DataType | str], descriptions: Mapping[str, str]
) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=name,
                type=dtype if isinstance(dtype, str) else duckdb_type(dtype),
                description=descriptions.get(name),
            )
            for name, dtype in columns.items()
        ]
    )


def markdown_table(frame: pl.DataFrame, max_rows: int = 10) -> str:
    """A small Markdown table (no pandas/tabulate needed)."""
    head = frame.head(max_rows)

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:,.3f}"
        return str(value).replace("|", "\\|") if value is not None else ""

    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in head.iter_rows()]
    if frame.height > max_rows:
        lines.append(f"\n_{frame.height - max_rows:,} more rows_")
    return "\n".join(lines)


# Dagster's event storage keeps metadata for ever, beyond the reach of an erasure: a preview never
# shows who a row is about, nor any personal value.
NEVER_IN_METADATA = ("customer_id", *PERSONAL_COLUMNS)


def preview(frame: pl.DataFrame, max_rows: int = 10) -> dg.MetadataValue:
    return dg.MetadataValue.md(markdown_table(frame.drop(NEVER_IN_METADATA, strict=False), max_rows))


def contract_schema(contract: TableContract) -> dg.TableSchema:
    """Dagster's column schema of a table, from its contract (types, nullability, descriptions)."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type=c.type,
                description=c.description,
                constraints=dg.TableColumnConstraints(nullable=c.nullable),
            )
            for c in contract.columns
        ]
    )


def table_metadata(contract: TableContract, frame: pl.DataFrame, rows: int = 10) -> dict:
    """Row count, table name, column schema (from the contract) and a preview of a written table."""
    return {
        "dagster/row_count": dg.MetadataValue.int(frame.height),
        "dagster/table_name": contract.table,
        "dagster/column_schema": contract_schema(contract),
        "preview": preview(frame, rows),
    }


def warehouse_table_metadata(
    conn, contract: TableContract, rows: int = 10, preview_columns: list[str] | None = None
) -> dict:
    """table_metadata of a table as it is in the warehouse (for tables written in SQL or in place);
    the preview shows `preview_columns` (default: all)."""
    count = conn.execute(f"SELECT count(*) FROM {contract.table}").fetchall()[0][0]
    sample = query_frame(conn, f"SELECT * FROM {contract.table} LIMIT {rows}")
    return {
        **table_metadata(contract, sample, rows),
        "dagster/row_count": dg.MetadataValue.int(count),
        "preview": preview(sample.select(preview_columns or sample.columns), rows),
    }


def table_spec(
    contract: TableContract,
    description: str,
    deps: Sequence[dg.CoercibleToAssetKey] = (),
    kinds: Sequence[str] = ("duckdb",),
) -> dg.AssetSpec:
    """The spec of the asset that writes `contract`'s table: key = [schema, table], group = schema."""
    return dg.AssetSpec(
        [contract.schema, contract.name],
        description=description,
        deps=list(deps),
        kinds=set(kinds),
        group_name=contract.schema,
    )


def contract_check_spec(contract: TableContract) -> dg.AssetCheckSpec:
    """The blocking check that the asset's table matches its contract (one per written table)."""
    return dg.AssetCheckSpec(
        CONTRACT_CHECK,
        asset=contract.table.split("."),
        blocking=True,
        description=f"{contract.table} has exactly the contract's columns and types, and no null where the "
        "contract refuses one (contracts/tables/).",
    )


def contract_check_result(conn, contract: TableContract) -> dg.AssetCheckResult:
    """The result of `contract_check_spec(contract)` on the table as written."""
    problems = contract_violations(conn, contract)
    return dg.AssetCheckResult(
        asset_key=contract.table.split("."),
        check_name=CONTRACT_CHECK,
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "violations": dg.MetadataValue.json(problems),
            "columns": dg.MetadataValue.int(len(contract.columns)),
        },
    )
