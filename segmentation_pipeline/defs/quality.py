"""Data-quality mart: row accounting per landing file, for operators and BI."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.contracts import tables as contract
from segmentation_pipeline.defs.metadata import (
    contract_check_result,
    contract_check_spec,
    contract_schema,
    preview,
)
from segmentation_pipeline.warehouse.tables import comment_table, query_frame, read_sql, transaction


@dg.asset(
    key=["marts", "data_quality"],
    group_name="marts",
    kinds={"duckdb"},
    deps=[dg.AssetKey(["staging", name]) for name in SOURCES],
    description="Row accounting per landing file: rows received = rows loaded + rows quarantined.",
    check_specs=[contract_check_spec(contract.DATA_QUALITY)],
    metadata={
        "dagster/column_schema": contract_schema(contract.DATA_QUALITY),
        "dagster/table_name": contract.DATA_QUALITY.table,
    },
)
def data_quality(warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        with transaction(conn):
            conn.execute(read_sql("marts/data_quality"))
            comment_table(conn, contract.DATA_QUALITY)
        by_source = query_frame(
            conn,
            """
            SELECT source, count(*) AS files, sum(rows_received) AS received, sum(rows_loaded) AS loaded,
                   sum(rows_quarantined) AS quarantined, count(*) FILTER (WHERE status = 'rejected') AS rejected_files
            FROM marts.data_quality GROUP BY source ORDER BY source
            """,
        )
        rows = conn.execute("SELECT count(*) FROM marts.data_quality").fetchall()[0][0]
        check = contract_check_result(conn, contract.DATA_QUALITY)
    return dg.MaterializeResult(
        metadata={"dagster/row_count": dg.MetadataValue.int(rows), "by_source": preview(by_source)},
        check_results=[check],
    )
