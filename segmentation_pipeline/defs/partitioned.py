"""DuckLake mode's per-customer stages as several steps: prepare once, one step per customer-hash bucket, commit.

Why a graph-backed asset with a fixed fan-out, and not Dagster partitions or dynamic outputs:
- Dagster partitions are materialised one run per partition (or one step over a range): the daily
  run would become N runs, with the global fits (BG/NBD, Pareto/NBD, Gamma-Gamma, k-means, RFM bin
  edges) and the marts between them to order by hand, and the asset graph would show every
  customer table as N partitions whose union is what BI reads. Nothing here is a partition a person
  would rematerialise alone: a bucket is a unit of work, not of data.
- Dynamic outputs pass each mapped value through the I/O manager (a pickle on the run's storage):
  one more thing pods must share. The number of buckets is known when the definitions load
  (`SEGMENTATION_CUSTOMER_PARTITIONS`), so the fan-out is fixed: `prepare` → `bucket_0` …
  `bucket_{N-1}` → `commit`, and the ops pass each other nothing (`Nothing` ins and outs, as every
  asset here passes nothing but through the warehouse). Any executor runs them: the multiprocess
  executor runs the buckets side by side, `k8s_job_executor` one pod each, with no change here.
The asset keeps its key, checks, metadata and downstream edges: only its steps change
(`marts__customer_profile` becomes `marts__customer_profile.prepare`, `.bucket_0`, …, `.commit`).
The DuckDB file never uses this (one writer per file, steps in one process): there each stage
stays one step (definitions.py).
"""

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence

import dagster as dg

from segmentation_pipeline.warehouse.buckets import Bucket

REQUIRED_RESOURCES = {"settings", "stages", "warehouse"}

Prepare = Callable[[dg.OpExecutionContext], None]
BuildBucket = Callable[[dg.OpExecutionContext, Bucket], None]
# The commit publishes the buckets' rows and returns what the single-step asset returns.
Commit = Callable[[dg.OpExecutionContext], Iterable[dg.MaterializeResult | dg.AssetCheckResult]]


def read_run_plan(conn, table: str, as_of: dt.date, what: str, step: str) -> dict:
    """The plan (JSON) a bucketed stage's first step wrote for `as_of`; a failure if that step did not run."""
    rows = conn.execute(f"SELECT plan_json FROM {table} WHERE as_of_date = ?", [as_of]).fetchall()
    if not rows:
        raise dg.Failure(f"no {what} plan for {as_of} in {table}: its {step} step did not run")
    return json.loads(rows[0][0])


def _output_name(key: dg.AssetKey) -> str:
    return key.to_python_identifier()


def customer_partitioned_asset(
    name: str,
    specs: Sequence[dg.AssetSpec],
    deps: Sequence[Sequence[str]],
    check_specs: Sequence[dg.AssetCheckSpec],
    prepare: Prepare,
    build_bucket: BuildBucket,
    commit: Commit,
    partitions: int,
) -> dg.AssetsDefinition:
    """The asset(s) of `specs` built as `prepare`, `partitions` bucket steps, then `commit`.

    `prepare` does what runs once before the buckets (the global fits; creating the staged table);
    `build_bucket` writes one bucket's customers into the staged table; `commit` swaps the staged
    table(s) in (warehouse/buckets.py) and returns the assets' MaterializeResults and check results.
    """
    dep_keys = [dg.AssetKey.from_coercible(key) for key in deps]
    outputs = {_output_name(spec.key): spec for spec in specs}
    check_outputs = [spec.get_python_identifier() for spec in check_specs]

    @dg.op(
        name=f"{name}_prepare",
        ins={f"dep_{i}": dg.In(dg.Nothing) for i in range(len(dep_keys))},
        out=dg.Out(dg.Nothing),
        required_resource_keys=REQUIRED_RESOURCES,
    )
    def prepare_op(context: dg.OpExecutionContext) -> None:
        prepare(context)

    def bucket_op(index: int) -> dg.OpDefinition:
        bucket = Bucket(index, partitions)

        @dg.op(
            name=f"{name}_bucket_{index}",
            ins={"prepared": dg.In(dg.Nothing)},
            out=dg.Out(dg.Nothing),
            required_resource_keys=REQUIRED_RESOURCES,
            description=f"The customers with hash(customer_id) % {partitions} = {index}.",
        )
        def _bucket(context: dg.OpExecutionContext) -> None:
            build_bucket(context, bucket)

        return _bucket

    buckets = [bucket_op(i) for i in range(partitions)]

    @dg.op(
        name=f"{name}_commit",
        ins={f"bucket_{i}": dg.In(dg.Nothing) for i in range(partitions)},
        out={
            **{output: dg.Out(dg.Nothing) for output in outputs},
            **{output: dg.Out(dg.Nothing, is_required=False) for output in check_outputs},
        },
        required_resource_keys=REQUIRED_RESOURCES,
    )
    def commit_op(context: dg.OpExecutionContext):
        for result in commit(context):
            if isinstance(result, dg.AssetCheckResult):
                yield result
                continue
            key = result.asset_key or specs[0].key
            yield dg.Output(
                None, output_name=_output_name(dg.AssetKey.from_coercible(key)), metadata=result.metadata
            )
            yield from result.check_results or []

    @dg.graph_multi_asset(
        name=name,
        outs={
            output: dg.AssetOut.from_spec(spec, dagster_type=dg.Nothing) for output, spec in outputs.items()
        },
        ins={f"dep_{i}": dg.AssetIn(key=key, dagster_type=dg.Nothing) for i, key in enumerate(dep_keys)},
        check_specs=list(check_specs),
    )
    def partitioned(**deps_done):
        # Op names are unique in the job (`clv_models_bucket_0`); the steps read `clv_models.bucket_0`.
        prepared = prepare_op.alias("prepare")(**deps_done)
        done = {f"bucket_{i}": bucket.alias(f"bucket_{i}")(prepared) for i, bucket in enumerate(buckets)}
        return commit_op.alias("commit")(**done)

    return partitioned
