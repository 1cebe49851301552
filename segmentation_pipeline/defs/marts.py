"""Marts layer: segments and personas, claims, economics, history, RFM segments, the customer profile, the service queue."""

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from segmentation_pipeline.contracts import PERSONAL_COLUMNS
from segmentation_pipeline.contracts import tables as contract
from segmentation_pipeline.defs.metadata import (
    contract_check_result,
    contract_check_spec,
    preview,
    table_metadata,
    table_spec,
    warehouse_table_metadata,
)
from segmentation_pipeline.defs.models import one_row_per_customer
from segmentation_pipeline.defs.partitioned import customer_partitioned_asset
from segmentation_pipeline.defs.resources import PipelineSettings
from segmentation_pipeline.defs.segments import CUSTOMER_SEGMENTS, read_segmentation_input
from segmentation_pipeline.features.value_basis import read_value_basis
from segmentation_pipeline.marts.economics.segment_economics import customer_economics
from segmentation_pipeline.marts.economics.service_queue import rank_open_tickets
from segmentation_pipeline.marts.history.segment_history import compare_with_previous, history_rows
from segmentation_pipeline.marts.personas.claims import empty_claims
from segmentation_pipeline.marts.profile.customer_profile import build_customer_profile
from segmentation_pipeline.marts.segments.segment_tables import build_segment_tables
from segmentation_pipeline.models.rfm.scores import summarize_rfm_segments
from segmentation_pipeline.models.segmentation.clustering import (
    attach_segments,
)
from segmentation_pipeline.stages import StageConfigs
from segmentation_pipeline.staging.reads import read_staging
from segmentation_pipeline.warehouse.buckets import Bucket, commit_staged, start_staged
from segmentation_pipeline.warehouse.tables import (
    comment_table,
    create_table,
    empty_frame,
    ensure_table,
    insert_frame,
    query_frame,
    read_sql,
    replace_table,
    transaction,
)

SEGMENT_MART_CONTRACTS = (
    contract.SEGMENTS, contract.SEGMENT_CLAIMS, contract.SEGMENT_HISTORY, contract.SEGMENT_MIGRATIONS
)  # fmt: skip


@dg.multi_asset(
    specs=[
        table_spec(
            contract.SEGMENTS,
            description="One row per behavioural segment: persona name, stories in English and French, positioning "
            "statement, recommended actions, defining traits, survey insights and economics (revenue, margin, CLV, "
            "cost to serve, ROI, service priority).",
            deps=[["models", "customer_segments"]],
        ),
        table_spec(
            contract.SEGMENT_CLAIMS,
            description="One row per fact a persona states: the claim, its value in the segment and in the whole "
            "base, the share of the segment's customers it holds for, and the English and French sentence that "
            "states it. A sentence is written only from a claim holding for >= 60% of the segment (gender 65%) or "
            "a statistic 25% away from the base's; a mixture is told as two groups.",
            deps=[["models", "customer_segments"]],
        ),
        table_spec(
            contract.SEGMENT_HISTORY,
            description="Segments of each customer over time: a row from each run date on which a customer's "
            "behavioural or RFM segment changed (the latest row before a date is the segment on that date).",
            deps=[["models", "customer_segments"]],
        ),
        table_spec(
            contract.SEGMENT_MIGRATIONS,
            description="Per run, customers (and revenue) moving from one segment to another, for behavioural "
            "segments and for RFM segments (e.g. Champions → At Risk); from = to counts those who stayed.",
            deps=[["models", "customer_segments"]],
        ),
    ],
    check_specs=[contract_check_spec(c) for c in SEGMENT_MART_CONTRACTS],
)
def segment_marts(
    context: dg.AssetExecutionContext,
    settings: PipelineSettings,
    stages: dg.ResourceParam[StageConfigs],
    warehouse: DuckDBResource,
):
    as_of = settings.analysis_date()
    with warehouse.get_connection() as conn:
        ensure_table(conn, contract.SEGMENT_MODEL_STATE)
        create_table(conn, contract.SEGMENT_HISTORY)
        create_table(conn, contract.SEGMENT_MIGRATIONS)
        profile = read_segmentation_input(conn)
        assignment = query_frame(conn, f"SELECT customer_id, segment_id FROM {CUSTOMER_SEGMENTS}")
        basis = read_value_basis(conn, settings.rfm_monetary)
        with_segment = attach_segments(profile, assignment)
        with_segment = with_segment.join(
            customer_economics(with_segment, stages.economics.cost_per_effort_point),
            on="customer_id",
            how="left",
        )
        if with_segment.is_empty():  # no customer yet: empty marts, typed as their contracts say
            segments, claims = empty_frame(conn, contract.SEGMENTS), empty_claims()
        else:
            on_basis = stages.for_basis(basis.basis)
            segments, claims = build_segment_tables(
                with_segment, on_basis.economics, on_basis.personas, settings.assumed_margin_rate
            )

        moves, changed = compare_with_previous(
            query_frame(conn, read_sql("models/previous_segment_state"), [as_of]),
            history_rows(with_segment, as_of),
            with_segment.select("customer_id", revenue="monetary"),
        )
        with transaction(conn):
            # Only this date's rows: a backfill must not delete the history of later dates.
            conn.execute("DELETE FROM marts.segment_history WHERE as_of_date = ?", [as_of])
            insert_frame(conn, "marts.segment_history", changed)
            conn.execute("DELETE FROM marts.segment_migrations WHERE as_of_date = ?", [as_of])
            insert_frame(conn, "marts.segment_migrations", moves)
            comment_table(conn, contract.SEGMENT_HISTORY)
            comment_table(conn, contract.SEGMENT_MIGRATIONS)
        replace_table(conn, contract.SEGMENTS, segments)
        replace_table(conn, contract.SEGMENT_CLAIMS, claims)
        history_rows_total = conn.execute("SELECT count(*) FROM marts.segment_history").fetchall()[0][0]
        checks = [contract_check_result(conn, c) for c in SEGMENT_MART_CONTRACTS]
    movers = moves.filter(pl.col("from_segment") != pl.col("to_segment")).sort("customers", descending=True)
    yield dg.MaterializeResult(
        asset_key=["marts", "segments"],
        metadata={
            **table_metadata(contract.SEGMENTS, segments),
            "value_basis": dg.MetadataValue.text(basis.describe()),
            "currency": dg.MetadataValue.text(settings.currency),
            "personas": preview(
                segments.select(
                    "segment_id", "persona_name", "customers", "customer_share", "roi", "service_priority"
                ),
                25,
            ),
        },
    )
    yield dg.MaterializeResult(
        asset_key=["marts", "segment_claims"],
        metadata={
            **table_metadata(contract.SEGMENT_CLAIMS, claims, 25),
            "claims_per_segment": preview(claims.group_by("segment_id").len("claims").sort("segment_id"), 25),
        },
    )
    yield dg.MaterializeResult(
        asset_key=["marts", "segment_history"],
        metadata={
            "dagster/row_count": dg.MetadataValue.int(history_rows_total),
            "changed_today": dg.MetadataValue.int(changed.height),
        },
    )
    yield dg.MaterializeResult(
        asset_key=["marts", "segment_migrations"],
        metadata={
            **table_metadata(contract.SEGMENT_MIGRATIONS, moves),
            "top_moves": preview(movers, 15),
        },
    )
    yield from checks


@dg.asset(
    key=["marts", "rfm_segments"],
    group_name="marts",
    kinds={"duckdb", "polars"},
    deps=[["features", "customer_features"], ["models", "rfm_scores"]],
    check_specs=[contract_check_spec(contract.RFM_SEGMENTS)],
    description="One row per RFM segment: customers, revenue, margin and customer share (shares sum to 1).",
)
def rfm_segments(warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        profile = query_frame(
            conn,
            "SELECT r.rfm_segment, f.monetary, f.margin FROM features.customer_features f JOIN models.rfm_scores r USING (customer_id)",
        )
        summary = summarize_rfm_segments(profile)
        replace_table(conn, contract.RFM_SEGMENTS, summary)
        check = contract_check_result(conn, contract.RFM_SEGMENTS)
    return dg.MaterializeResult(
        metadata=table_metadata(contract.RFM_SEGMENTS, summary, 12), check_results=[check]
    )


@dg.asset_check(asset=["marts", "rfm_segments"], blocking=True, description="Segment shares sum to 1.")
def rfm_segment_shares_sum_to_one(warehouse: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        total, customers = conn.execute(
            "SELECT sum(share), sum(customers) FROM marts.rfm_segments"
        ).fetchall()[0]
    return dg.AssetCheckResult(
        passed=customers == 0 or abs(total - 1.0) < 1e-9, metadata={"sum_of_shares": float(total or 0)}
    )


PROFILE_DESCRIPTION = (
    "One row per known customer (prospects included) as of the run: RFM scores and segment, customer classes, "
    "behavioural segment and persona, P(alive), expected orders and CLV, plus demographics, channel preference, "
    "influence tier, service effort and cost to serve, and latest survey answers. No personal data."
)
PROFILE_DEPS = [["marts", "segments"]]


def _profile_written(conn, basis) -> dg.MaterializeResult:
    """The profile asset's metadata and contract check, on the table as written."""
    metadata = warehouse_table_metadata(
        conn, contract.CUSTOMER_PROFILE, preview_columns=contract.CUSTOMER_PROFILE.guaranteed
    )
    check = contract_check_result(conn, contract.CUSTOMER_PROFILE)
    return dg.MaterializeResult(
        asset_key=["marts", "customer_profile"],
        metadata={
            **metadata,
            "columns": dg.MetadataValue.int(len(metadata["dagster/column_schema"].columns)),
            "value_basis": dg.MetadataValue.text(basis.describe()),
        },
        check_results=[check],
    )


@dg.asset(
    key=["marts", "customer_profile"],
    group_name="marts",
    kinds={"duckdb"},
    deps=PROFILE_DEPS,
    check_specs=[contract_check_spec(contract.CUSTOMER_PROFILE)],
    description=PROFILE_DESCRIPTION,
)
def customer_profile(
    settings: PipelineSettings, stages: dg.ResourceParam[StageConfigs], warehouse: DuckDBResource
) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        basis = read_value_basis(conn, settings.rfm_monetary)
        build_customer_profile(
            conn, basis.basis, settings.assumed_margin_rate, stages.economics.cost_per_effort_point
        )
        return _profile_written(conn, basis)


def partitioned_customer_profile(partitions: int) -> dg.AssetsDefinition:
    """`customer_profile` as one step per customer-hash bucket (DuckLake mode; defs/partitioned.py)."""

    def prepare(context: dg.OpExecutionContext) -> None:
        with context.resources.warehouse.get_connection() as conn:
            start_staged(conn, contract.CUSTOMER_PROFILE)

    def build_bucket(context: dg.OpExecutionContext, bucket: Bucket) -> None:
        settings, stages = context.resources.settings, context.resources.stages
        with context.resources.warehouse.get_connection() as conn:
            basis = read_value_basis(conn, settings.rfm_monetary)
            build_customer_profile(
                conn,
                basis.basis,
                settings.assumed_margin_rate,
                stages.economics.cost_per_effort_point,
                bucket,
            )

    def commit(context: dg.OpExecutionContext) -> list[dg.MaterializeResult]:
        with context.resources.warehouse.get_connection() as conn:
            commit_staged(conn, [contract.CUSTOMER_PROFILE])
            return [_profile_written(conn, read_value_basis(conn, context.resources.settings.rfm_monetary))]

    return customer_partitioned_asset(
        "customer_profile",
        [table_spec(contract.CUSTOMER_PROFILE, PROFILE_DESCRIPTION)],
        PROFILE_DEPS,
        [contract_check_spec(contract.CUSTOMER_PROFILE)],
        prepare,
        build_bucket,
        commit,
        partitions,
    )


@dg.asset_check(
    asset=["marts", "customer_profile"],
    blocking=True,
    description="Every customer exactly once; no personal data.",
)
def customer_profile_is_complete(warehouse: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        complete, counts = one_row_per_customer(conn, "marts.customer_profile")
        columns = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts'"
        ).fetchall()
        personal = sorted({name for (name,) in columns} & set(PERSONAL_COLUMNS))
    return dg.AssetCheckResult(
        passed=complete and not personal, metadata={**counts, "personal_columns": personal}
    )


@dg.asset(
    key=["marts", "service_queue"],
    group_name="marts",
    kinds={"duckdb", "polars"},
    deps=[["staging", "service"], ["marts", "customer_profile"]],
    check_specs=[contract_check_spec(contract.SERVICE_QUEUE)],
    description="One row per open service ticket (not recorded as resolved), ranked for the seeds' question "
    '"two customers need help and there is capacity for one: which first?": value at stake (the customer\'s '
    "clv_12m) to the cent, highest first, then least effort so far, then oldest, then ticket_id. Empty (typed) without a "
    "service source.",
)
def service_queue(settings: PipelineSettings, warehouse: DuckDBResource) -> dg.MaterializeResult:
    as_of = settings.analysis_date()
    with warehouse.get_connection() as conn:
        basis = read_value_basis(conn, settings.rfm_monetary)
        tickets = read_staging(conn, "service", as_of)
        profile = query_frame(
            conn, "SELECT customer_id, segment_id, persona_name, clv_12m, p_alive FROM marts.customer_profile"
        )
        queue = rank_open_tickets(tickets, profile, as_of, basis.basis)
        replace_table(conn, contract.SERVICE_QUEUE, queue)
        check = contract_check_result(conn, contract.SERVICE_QUEUE)
    return dg.MaterializeResult(
        check_results=[check],
        metadata={
            **table_metadata(contract.SERVICE_QUEUE, queue),
            "service_source": dg.MetadataValue.text(
                "present" if tickets is not None else "absent: empty queue"
            ),
            "value_basis": dg.MetadataValue.text(basis.describe()),
            "top_of_queue": preview(queue.head(15), 15),
        },
    )
