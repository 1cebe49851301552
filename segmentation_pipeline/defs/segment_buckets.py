"""Models layer, behavioural segments in DuckLake mode: a prepare step, one step per customer bucket and
a commit (defs/partitioned.py), with the numbers of the one-step asset (defs/segments.py).

The lake split, and why (issue 17): no step may read every customer's segmentation input (10M
customers on a 24 GB machine), yet reusing the model or refitting it depends on every buyer (the
drift test is their mean distance to their centroid and the share of each segment; a refit's new ids
go biggest first). So every step keeps to what is small (models/segmentation/fitting.py):
- prepare: the cadence test (no data needed); a refit fits its candidate on the hash sample, chosen
  from a stream of buyer ids and read alone. The plan (models.segment_run_plan) holds the model the
  buckets use: the previous one, or the candidate with provisional ids 1..k.
- bucket_i: assigns its customers in chunks into models.customer_segments__next, and adds its buyers
  and summed distance per segment to models.segment_bucket_usage.
- commit: the drift test on the buckets' usage; the final ids of a refit (provisional ids mapped in
  SQL); ARI against the previous assignment from a GROUP BY; the swap, state row and contract check.
  Drift found at the commit (a reused model that no longer fits) refits there and assigns the buckets
  again one after the other: rare (a cadence refit, weekly, costs no second pass), and the result is
  the one the DuckDB file gets.
"""

import datetime as dt
import json
from collections.abc import Iterator

import dagster as dg
import polars as pl
from threadpoolctl import threadpool_limits

from segmentation_pipeline.contracts import tables as contract
from segmentation_pipeline.defs.metadata import (
    contract_check_result,
    contract_check_spec,
    warehouse_table_metadata,
)
from segmentation_pipeline.defs.partitioned import customer_partitioned_asset, read_run_plan
from segmentation_pipeline.defs.segments import (
    CUSTOMER_SEGMENTS,
    SEGMENTS_DEPS,
    SEGMENTS_DESCRIPTION,
    previous_model,
    read_segmentation_input,
    record_segment_state,
    segmentation_input_sql,
    segments_metadata,
)
from segmentation_pipeline.models.segmentation.clustering import (
    PROSPECT_SEGMENT_ID,
    SegmentationConfig,
    SegmentModel,
    is_prospect,
    prepare_profile,
)
from segmentation_pipeline.models.segmentation.fitting import (
    Overlap,
    Usage,
    finish_model,
    fit_candidate,
    fit_sample_ids,
    usage_rows,
)
from segmentation_pipeline.models.segmentation.segmenting import (
    adjusted_rand_from_counts,
    drift_reason,
    refit_reason,
    refitted_reason,
    reused_reason,
)
from segmentation_pipeline.warehouse.buckets import (
    BUCKET_TABLE,
    Bucket,
    mark_bucket_customers,
    staged,
    start_staged,
    swap_staged,
)
from segmentation_pipeline.warehouse.tables import (
    comment_table,
    ensure_table,
    insert_frame,
    query_frame,
    table_exists,
    transaction,
)

STAGED_SEGMENTS = staged(contract.CUSTOMER_SEGMENTS).table
RUN_PLAN = contract.SEGMENT_RUN_PLAN.table
USAGE = contract.SEGMENT_BUCKET_USAGE.table
# Rows of segmentation input a bucket step encodes at once: ~50 columns, a few hundred MB at most.
ASSIGN_CHUNK_ROWS = 500_000


def _buyer_id_batches(conn, counted: list[int]) -> Iterator[pl.Series]:
    """Every buyer's id, a batch at a time (adds the buyers to counted[0])."""
    reader = conn.execute("SELECT customer_id, frequency FROM features.customer_features").to_arrow_reader(
        ASSIGN_CHUNK_ROWS
    )
    for batch in reader:
        ids = pl.from_arrow(batch).filter(~is_prospect()).get_column("customer_id")
        counted[0] += ids.len()
        yield ids


def _fit_lake_candidate(
    conn, previous: SegmentModel | None, as_of: dt.date, config: SegmentationConfig
) -> SegmentModel:
    """A refit's candidate from the hash sample alone: ids streamed, then only the sample's rows read."""
    counted = [0]
    ids = fit_sample_ids(_buyer_id_batches(conn, counted), config.fit_sample_size, config.random_state)
    conn.register("_fit_sample_ids", ids.to_frame())
    sample = prepare_profile(read_segmentation_input(conn, only="_fit_sample_ids"), keep_extra=False)
    conn.unregister("_fit_sample_ids")
    if previous is not None:
        previous_k = previous.k
    elif table_exists(conn, CUSTOMER_SEGMENTS):  # the model is lost, its assignment is not
        previous_k = conn.execute(
            f"SELECT count(DISTINCT segment_id) FROM {CUSTOMER_SEGMENTS} WHERE segment_id <> ?",
            [PROSPECT_SEGMENT_ID],
        ).fetchall()[0][0]
    else:
        previous_k = None
    with threadpool_limits(limits=1):  # as in the DuckDB file's fit (segmenting.py says why)
        return fit_candidate(sample.sort("customer_id"), counted[0], previous, previous_k, as_of, config)


def _start_assignment(conn) -> None:
    """An empty staged assignment and usage table, for the buckets to append to."""
    with transaction(conn):
        start_staged(conn, contract.CUSTOMER_SEGMENTS)
        conn.execute(contract.SEGMENT_BUCKET_USAGE.ddl(replace=True))


def _assign_bucket(conn, bucket: Bucket, model: SegmentModel, as_of: dt.date) -> int:
    """The bucket's customers assigned with `model` (chunk by chunk) into the staged table, with its usage."""
    customers = mark_bucket_customers(conn, bucket, "features.customer_features")
    reader = conn.execute(segmentation_input_sql(BUCKET_TABLE)).to_arrow_reader(ASSIGN_CHUNK_ROWS)
    assigned, usage = [], []
    for batch in reader:
        prepared = prepare_profile(pl.from_arrow(batch), keep_extra=False)
        buyers = prepared.filter(~is_prospect())
        segment_ids, distances = model.assign(buyers)
        usage.append(usage_rows(segment_ids, distances))
        assigned.append(
            pl.DataFrame({"customer_id": buyers.get_column("customer_id"), "segment_id": segment_ids})
        )
        assigned.append(
            prepared.filter(is_prospect()).select(
                "customer_id", pl.lit(PROSPECT_SEGMENT_ID, dtype=pl.Int64).alias("segment_id")
            )
        )
    with transaction(conn):
        if assigned:
            insert_frame(
                conn, STAGED_SEGMENTS, pl.concat(assigned).with_columns(as_of_date=pl.lit(as_of, pl.Date))
            )
            insert_frame(conn, USAGE, pl.concat(usage))
    return customers


def _read_usage(conn) -> Usage:
    return Usage.from_rows(query_frame(conn, f"SELECT segment_id, customers, distance_sum FROM {USAGE}"))


def _overlap(conn) -> Overlap | None:
    """The staged candidate's segments against the published assignment (prospects left out), if any."""
    if not table_exists(conn, CUSTOMER_SEGMENTS):
        return None
    counts = query_frame(
        conn,
        f"""SELECT n.segment_id, p.segment_id AS previous_segment_id, count(*) AS customers
            FROM {STAGED_SEGMENTS} AS n JOIN {CUSTOMER_SEGMENTS} AS p USING (customer_id)
            WHERE n.segment_id <> $prospect AND p.segment_id <> $prospect GROUP BY ALL""",
        {"prospect": PROSPECT_SEGMENT_ID},
    )
    previous_ids = conn.execute(
        f"SELECT DISTINCT segment_id FROM {CUSTOMER_SEGMENTS} WHERE segment_id <> ? ORDER BY 1",
        [PROSPECT_SEGMENT_ID],
    ).fetchall()
    return Overlap(counts, [row[0] for row in previous_ids])


def _ari_vs_published(conn) -> float | None:
    """ARI of the staged assignment against the published one over everyone. Relabelling leaves the
    ARI unchanged, so a refit's provisional ids give the figure its final ids would."""
    if not table_exists(conn, CUSTOMER_SEGMENTS):
        return None
    pairs = conn.execute(
        f"""SELECT p.segment_id, n.segment_id, count(*) FROM {STAGED_SEGMENTS} AS n
            JOIN {CUSTOMER_SEGMENTS} AS p USING (customer_id) GROUP BY ALL"""
    ).fetchall()
    return adjusted_rand_from_counts(pairs)


def _publish(conn, final_ids: dict[int, int] | None) -> None:
    """The staged assignment in place of the published one, a refit's provisional ids mapped to the final
    ones (a join with a table of k rows), in the caller's transaction."""
    if final_ids is None:
        swap_staged(conn, contract.CUSTOMER_SEGMENTS)
        return
    mapping = pl.DataFrame(
        {"provisional_id": list(final_ids), "segment_id": list(final_ids.values())},
        schema={"provisional_id": pl.Int64, "segment_id": pl.Int64},
    )
    conn.register("_segment_id_map", mapping)
    conn.execute(contract.CUSTOMER_SEGMENTS.ddl(replace=True))
    conn.execute(
        f"""INSERT INTO {CUSTOMER_SEGMENTS} BY NAME
            SELECT n.customer_id, coalesce(m.segment_id, n.segment_id) AS segment_id, n.as_of_date
            FROM {STAGED_SEGMENTS} AS n LEFT JOIN _segment_id_map AS m ON n.segment_id = m.provisional_id"""
    )
    conn.unregister("_segment_id_map")
    conn.execute(f"DROP TABLE {STAGED_SEGMENTS}")
    comment_table(conn, contract.CUSTOMER_SEGMENTS)


def partitioned_customer_segments(partitions: int) -> dg.AssetsDefinition:
    """`customer_segments` as prepare, one assignment step per customer-hash bucket, and a commit
    (DuckLake mode; the module's docstring says what each step decides)."""

    def prepare(context: dg.OpExecutionContext) -> None:
        as_of, config = context.resources.settings.analysis_date(), context.resources.stages.segmentation
        with context.resources.warehouse.get_connection() as conn:
            ensure_table(conn, contract.SEGMENT_MODEL_STATE)
            ensure_table(conn, contract.SEGMENT_RUN_PLAN)
            previous = previous_model(conn, as_of)
            reason = refit_reason(previous, as_of, config)
            model = previous if reason is None else _fit_lake_candidate(conn, previous, as_of, config)
            _start_assignment(conn)
            with transaction(conn):
                conn.execute(f"DELETE FROM {RUN_PLAN}")
                conn.execute(
                    f"INSERT INTO {RUN_PLAN} VALUES (?, ?, now()::TIMESTAMP)",
                    [as_of, json.dumps({"refit_reason": reason, "model_json": model.to_json()})],  # type: ignore[union-attr]
                )
        context.log.info(
            f"segments: {'refit candidate (' + reason + ')' if reason else 'reuse, unless drift'}"
        )

    def build_bucket(context: dg.OpExecutionContext, bucket: Bucket) -> None:
        as_of = context.resources.settings.analysis_date()
        with context.resources.warehouse.get_connection() as conn:
            plan = read_run_plan(conn, RUN_PLAN, as_of, "segment", "prepare")
            customers = _assign_bucket(conn, bucket, SegmentModel.from_json(plan["model_json"]), as_of)
        context.log.info(f"bucket {bucket.index} of {bucket.of}: {customers:,} customers assigned")

    def commit(context: dg.OpExecutionContext) -> list[dg.MaterializeResult]:
        as_of, config = context.resources.settings.analysis_date(), context.resources.stages.segmentation
        with context.resources.warehouse.get_connection() as conn:
            plan = read_run_plan(conn, RUN_PLAN, as_of, "segment", "prepare")
            previous, reason = previous_model(conn, as_of), plan["refit_reason"]
            model, usage = SegmentModel.from_json(plan["model_json"]), _read_usage(conn)
            drift = shift = 0.0
            if reason is None:
                reason, drift, shift = drift_reason(previous, usage, config)  # type: ignore[arg-type]
                if reason is not None:
                    context.log.warning(
                        f"segments: {reason}; refitting and assigning the {partitions} buckets here"
                    )
                    model = _fit_lake_candidate(conn, previous, as_of, config)
                    _start_assignment(conn)
                    for index in range(partitions):
                        _assign_bucket(conn, Bucket(index, partitions), model, as_of)
                    usage = _read_usage(conn)
            refitted, final_ids = reason is not None, None
            if refitted:
                overlap = _overlap(conn) if previous is None else None
                model, final_ids = finish_model(model, usage, previous, overlap, config)
                reason = refitted_reason(reason, model)
            else:
                reason = reused_reason(model, drift, shift)
            ari = _ari_vs_published(conn)
            with transaction(conn):  # the assignment and the model that made it, or neither
                _publish(conn, final_ids)
                record_segment_state(conn, as_of, model, refitted, reason, ari, drift, shift)
                conn.execute(f"DROP TABLE {USAGE}")
            check = contract_check_result(conn, contract.CUSTOMER_SEGMENTS)
            sizes = query_frame(
                conn,
                f"SELECT segment_id, count(*) AS customers FROM {CUSTOMER_SEGMENTS} GROUP BY segment_id ORDER BY 1",
            )
            table = warehouse_table_metadata(conn, contract.CUSTOMER_SEGMENTS)
        context.log.info(f"segments: {reason}; ARI vs previous run: {ari}")
        return [
            dg.MaterializeResult(
                check_results=[check],
                metadata=segments_metadata(table, model, refitted, reason, ari, drift, sizes),
            )
        ]

    spec = dg.AssetSpec(
        ["models", "customer_segments"],
        group_name="models",
        kinds={"duckdb", "scikitlearn"},
        description=SEGMENTS_DESCRIPTION,
    )
    return customer_partitioned_asset(
        "customer_segments",
        [spec],
        SEGMENTS_DEPS,
        [contract_check_spec(contract.CUSTOMER_SEGMENTS)],
        prepare,
        build_bucket,
        commit,
        partitions,
    )
