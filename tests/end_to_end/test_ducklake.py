"""DuckLake mode gives the same marts as the DuckDB file, on a full run and on the next day's run.

The sample runs in both modes: the DuckDB file in one process, the DuckLake (a real PostgreSQL
catalog started by the test, Parquet under the data dir, or on a local S3 endpoint) as an operator
runs it, `python -m segmentation_pipeline run`, its steps in parallel processes. Every published
mart must hold the same rows, floats within a relative 1e-9.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from dagster._core.instance.ref import InstanceRef
from polars.testing import assert_frame_equal

from segmentation_pipeline.synth import generate_landing_zone
from tests.conftest import failure_messages, published_marts, run_daily_job

# Enough history for the CLV models to fit (180 days, 50 repeat buyers), small enough for `make test`.
CUSTOMERS, DAYS, SEED = 1500, 240, 11
END = dt.date(2026, 6, 30)
DAY_BEFORE = (END - dt.timedelta(days=1)).isoformat()
# When the run happened, not what it computed: the only columns that differ between two runs.
RUN_TIME_COLUMNS = {"loaded_at", "fitted_at", "accepted_at"}


def published_tables(data_dir: Path) -> dict[str, pl.DataFrame]:
    """Every table of the published snapshot, rows in a canonical order, run-time columns left out."""
    with published_marts(data_dir) as conn:
        names = [r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        frames = {name: conn.execute(f'SELECT * FROM "{name}"').pl() for name in sorted(names)}
    tables = {}
    for name, frame in frames.items():
        frame = frame.drop([c for c in frame.columns if c in RUN_TIME_COLUMNS])
        order = [
            pl.col(c).round(6) if frame.schema[c].is_float() else pl.col(c)
            for c in frame.columns
            if not isinstance(frame.schema[c], pl.List | pl.Struct | pl.Array)
        ]
        tables[name] = frame.sort(order, nulls_last=True)
    return tables


def assert_same_marts(expected: dict[str, pl.DataFrame], actual: dict[str, pl.DataFrame]) -> None:
    assert sorted(actual) == sorted(expected)
    for name, frame in expected.items():
        assert actual[name].height == frame.height, (
            f"marts.{name}: {actual[name].height} rows, not {frame.height}"
        )
        assert_frame_equal(actual[name], frame, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


def run_command(data_dir: Path, env: dict[str, str] | None = None, **settings: str) -> None:
    """`python -m segmentation_pipeline run` in its own process, as `make run` starts it.

    Its own process, not this one: the step processes fork from a server started at a process's first
    parallel run, with that moment's environment (one run per process, as Dagster launches runs).
    """
    variables = {f"SEGMENTATION_{name.upper()}": value for name, value in settings.items()}
    variables |= {"SEGMENTATION_DATA_DIR": str(data_dir), "SEGMENTATION_SETTLE_SECONDS": "0"}
    child_env = {
        k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"
    }  # a throwaway instance (or env's)
    done = subprocess.run(
        [sys.executable, "-m", "segmentation_pipeline", "run"],
        env={**child_env, **(env or {}), **variables},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]


def run_two_days(
    data_dir: Path, env: dict[str, str] | None = None, **settings: str
) -> list[dict[str, pl.DataFrame]]:
    """A full run up to the day before the last, then the incremental run of the last day."""
    published = []
    for as_of in (DAY_BEFORE, END.isoformat()):
        if settings.get("WAREHOUSE") == "ducklake":
            run_command(data_dir, env, AS_OF=as_of, **settings)
        else:
            result = run_daily_job(data_dir, AS_OF=as_of, **settings)
            assert result.success, failure_messages(result)
        published.append(published_tables(data_dir))
    return published


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("ducklake_sample")
    generate_landing_zone(base, customers=CUSTOMERS, days=DAYS, seed=SEED, end_date=END)
    return base


@pytest.fixture(scope="module")
def file_marts(sample: Path, tmp_path_factory) -> list[dict[str, pl.DataFrame]]:
    data_dir = tmp_path_factory.mktemp("file_mode")
    shutil.copytree(sample / "raw", data_dir / "raw")
    return run_two_days(data_dir)


def test_sample_holds_every_mart(file_marts):
    # Guards the comparison below from comparing empty tables.
    first = file_marts[0]
    assert first["clv_model_params"].height > 0, "the CLV models fit on the sample"
    assert first["customer_profile"].height >= 0.9 * CUSTOMERS
    assert first["customer_profile"].get_column("clv_12m").is_not_null().any()
    assert all(frame.height > 0 for name, frame in first.items() if name != "service_queue")


PARTITIONS = 3  # customer-hash buckets of the per-customer stages in the lake run (the file has none)
PARTITIONED_STAGES = ("customer_feature_tables", "clv_models", "customer_segments", "customer_profile")


def step_keys_of_runs(dagster_home: Path) -> list[set[str]]:
    """The steps that succeeded in each run recorded under `dagster_home`, oldest run first."""
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home))) as instance:
        runs = sorted(
            instance.get_runs(), key=lambda run: instance.get_run_record_by_id(run.run_id).create_timestamp
        )
        return [
            {record.event_log_entry.step_key for record in instance.get_records_for_run(
                run.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS).records}
            for run in runs
        ]  # fmt: skip


def test_ducklake_gives_the_same_marts_as_the_duckdb_file(sample, file_marts, lake_catalog, tmp_path):
    shutil.copytree(sample / "raw", tmp_path / "raw")
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    lake_marts = run_two_days(
        tmp_path,
        {"DAGSTER_HOME": str(dagster_home)},  # kept, to read the runs' steps below
        WAREHOUSE="ducklake",
        DUCKLAKE_CATALOG=lake_catalog,
        WORKERS="2",
        CUSTOMER_PARTITIONS=str(PARTITIONS),
    )
    assert not (tmp_path / "warehouse.duckdb").exists(), "DuckLake mode writes no warehouse file"
    assert list((tmp_path / "lake").rglob("*.parquet")), "the lake's tables are Parquet under DATA_DIR/lake/"
    for day, (expected, actual) in enumerate(zip(file_marts, lake_marts, strict=True)):
        print(f"run {day + 1}: {len(actual)} marts equal, {sum(f.height for f in actual.values()):,} rows")
        assert_same_marts(expected, actual)

    # Each per-customer stage ran as a fit/prepare step, one step per bucket and a commit, on both days.
    runs = step_keys_of_runs(dagster_home)
    assert len(runs) == 2
    for steps in runs:
        for stage in PARTITIONED_STAGES:
            expected_steps = {f"{stage}.prepare", f"{stage}.commit"} | {
                f"{stage}.bucket_{i}" for i in range(PARTITIONS)
            }
            assert {step for step in steps if step.startswith(f"{stage}.")} == expected_steps
            assert stage not in steps, f"{stage} ran as one step too"
    # The buckets' table is whole: every customer of the file mode's profile, each once.
    for day, published in enumerate(lake_marts):
        ids = published["customer_profile"].get_column("customer_id")
        assert ids.n_unique() == ids.len() == file_marts[day]["customer_profile"].height
        assert published["customer_profile"].get_column("clv_12m").is_not_null().sum() == (
            file_marts[day]["customer_profile"].get_column("clv_12m").is_not_null().sum()
        ), "every bucket's CLV predictions reached the profile"


def test_ducklake_with_its_data_on_s3(sample, file_marts, lake_catalog, s3_endpoint, tmp_path):
    shutil.copytree(sample / "raw", tmp_path / "raw")
    run_command(
        tmp_path,
        env={name: value for name, value in s3_endpoint.items() if name.startswith("AWS_")},
        AS_OF=DAY_BEFORE,
        WAREHOUSE="ducklake",
        DUCKLAKE_CATALOG=lake_catalog,
        DUCKLAKE_DATA_PATH=f"s3://{s3_endpoint['bucket']}/lake/",
        WORKERS="2",
    )
    assert not (tmp_path / "lake").exists(), "the data went to the bucket, not to the data dir"
    listing = urllib.request.urlopen(f"{s3_endpoint['AWS_ENDPOINT_URL']}/{s3_endpoint['bucket']}").read()
    assert b".parquet" in listing, "the lake's tables are Parquet objects in the bucket"
    assert_same_marts(file_marts[0], published_tables(tmp_path))
