"""Metadata that makes assets readable in the Dagster UI: column schemas and Markdown previews."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import polars as pl

from segmentation_pipeline.warehouse.tables import duckdb_type, query_frame


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
NEVER_IN_METADATA = ("customer_id", "email", "full_name", "handle", "comment")


def preview(frame: pl.DataFrame, max_rows: int = 10) -> dg.MetadataValue:
    return dg.MetadataValue.md(markdown_table(frame.drop(NEVER_IN_METADATA, strict=False), max_rows))


def table_metadata(table: str, frame: pl.DataFrame, descriptions: Mapping[str, str], rows: int = 10) -> dict:
    """Row count, table name, column schema (with descriptions) and a preview of a written table."""
    return {
        "dagster/row_count": dg.MetadataValue.int(frame.height),
        "dagster/table_name": table,
        "dagster/column_schema": column_schema(dict(frame.schema), descriptions),
        "preview": preview(frame, rows),
    }


def warehouse_table_metadata(
    conn,
    table: str,
    descriptions: Mapping[str, str],
    rows: int = 10,
    preview_columns: list[str] | None = None,
) -> dict:
    """table_metadata of a table as it is in the warehouse (for tables written in SQL or in place);
    the preview shows `preview_columns` (default: all)."""
    count = conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    sample = query_frame(conn, f"SELECT * FROM {table} LIMIT {rows}")
    return {
        **table_metadata(table, sample, descriptions, rows),
        "dagster/row_count": dg.MetadataValue.int(count),
        "preview": preview(sample.select(preview_columns or sample.columns), rows),
    }
