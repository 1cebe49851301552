"""Data-quality mart: row accounting per landing file, for operators and BI."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.defs.metadata import column_schema, preview
from segmentation_pipeline.warehouse.tables import comment_table, query_frame, read_sql, transaction

DATA_QUALITY_COLUMNS = {
    "as_of_date": ("DATE", "Analysis date of the run that loaded the file."),
    "source": ("VARCHAR", "Source the file belongs to (orders, customers, ...)."),
    "file": ("VARCHAR", "Landing file, relative to the raw directory."),
    "landing_date": ("DATE", "Landing date from the file name (NULL when the name is wrong)."),
    "status": ("VARCHAR", "loaded | partially_loaded | rejected (whole file) | empty."),
    "error": ("VARCHAR", "Why the whole file was rejected, if it was."),
    "rows_received": ("BIGINT", "Data rows in the file (NULL when the file could not be read at all)."),
    "rows_loaded": ("BIGINT", "Rows loaded into staging."),
    "rows_quarantined": ("BIGINT", "Rows sent to quarantine.<source> with the rule they failed."),
    "rows_expected": (
        "BIGINT",
        "Quarantined rows whose every rule is declared expected (SEGMENTATION_EXPECTED_REJECTIONS): not counted by the gate.",
    ),
    "rejected_share": ("DOUBLE", "rows_quarantined / rows_received."),
    "quarantined_revenue": (
        "DOUBLE",
        "Orders only: revenue of the quarantined completed lines (quantity x unit_price - discount), where it parses.",
    ),
    "gate": (
        "VARCHAR",
        "held (the source's check fails until the file is re-landed or accepted) | accepted | NULL.",
    ),
    "gate_reason": ("VARCHAR", "Why the gate held the file."),
    "accepted_by": ("VARCHAR", "Who accepted the held file (python -m segmentation_pipeline accept)."),
    "accepted_at": ("TIMESTAMP", "When it was accepted (UTC)."),
    "loaded_at": ("TIMESTAMP", "When the file was loaded (UTC)."),
}


@dg.asset(
    key=["marts", "data_quality"],
    group_name="marts",
    kinds={"duckdb"},
    deps=[dg.AssetKey(["staging", name]) for name in SOURCES],
    description="Row accounting per landing file: rows received = rows loaded + rows quarantined.",
    metadata={
        "dagster/column_schema": column_schema(
            {k: t for k, (t, _) in DATA_QUALITY_COLUMNS.items()},
            {k: d for k, (_, d) in DATA_QUALITY_COLUMNS.items()},
        ),
        "dagster/table_name": "marts.data_quality",
    },
)
def data_quality(warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        with transaction(conn):
            conn.execute(read_sql("marts/data_quality"))
            comment_table(
                conn,
                "marts.data_quality",
                "Row accounting per landing file.",
                {k: d for k, (_, d) in DATA_QUALITY_COLUMNS.items()},
            )
        by_source = query_frame(
            conn,
            """
            SELECT source, count(*) AS files, sum(rows_received) AS received, sum(rows_loaded) AS loaded,
                   sum(rows_quarantined) AS quarantined, count(*) FILTER (WHERE status = 'rejected') AS rejected_files
            FROM marts.data_quality GROUP BY source ORDER BY source
            """,
        )
        rows = conn.execute("SELECT count(*) FROM marts.data_quality").fetchall()[0][0]
    return dg.MaterializeResult(
        metadata={"dagster/row_count": dg.MetadataValue.int(rows), "by_source": preview(by_source)}
    )
