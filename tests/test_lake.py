"""DuckLake connections on a real PostgreSQL catalog: what one process commits, another reads; data on S3."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import polars as pl
import pytest

from segmentation_pipeline.synth import generate_landing_zone
from segmentation_pipeline.warehouse import lake
from segmentation_pipeline.warehouse.lake_lock import LakeRunLock
from segmentation_pipeline.warehouse.run_lock import WarehouseBusyError

_APPEND = """
import sys, polars as pl
from segmentation_pipeline.warehouse import lake
conn = lake.connect(sys.argv[1], sys.argv[2])
conn.register("_rows", pl.DataFrame({"worker": [int(sys.argv[3])] * 1000, "n": list(range(1000))}))
conn.execute("INSERT INTO staging.appends SELECT * FROM _rows")
"""


@pytest.mark.slow  # four processes committing to one PostgreSQL catalog (~14 s on a loaded machine)
def test_commits_of_parallel_processes_all_land(lake_catalog: str, tmp_path: Path):
    data_path = f"{tmp_path / 'lake'}/"
    with lake.connect(lake_catalog, data_path) as conn:
        conn.execute("CREATE SCHEMA staging")
        conn.execute("CREATE TABLE staging.appends (worker INTEGER, n INTEGER)")
    workers = [
        subprocess.Popen([sys.executable, "-c", _APPEND, lake_catalog, data_path, str(w)]) for w in range(4)
    ]
    assert [w.wait(timeout=120) for w in workers] == [0, 0, 0, 0]
    with lake.connect(lake_catalog, data_path) as conn:
        counts = conn.execute("SELECT worker, count(*) FROM staging.appends GROUP BY 1 ORDER BY 1").fetchall()
    assert counts == [(0, 1000), (1, 1000), (2, 1000), (3, 1000)]
    assert list((tmp_path / "lake").rglob("*.parquet")), "the rows are Parquet files under the data path"


@pytest.mark.slow  # starts a moto S3 server for one table (~10 s on a loaded machine, 3 s of it the server)
def test_data_path_on_s3(lake_catalog: str, s3_endpoint: dict[str, str]):
    frame = pl.DataFrame(
        {"customer_id": [f"C{i}" for i in range(5000)], "value": [i / 7 for i in range(5000)]}
    )
    with pytest.MonkeyPatch.context() as env:
        for name, value in s3_endpoint.items():
            if name.startswith("AWS_"):
                env.setenv(name, value)
        with lake.connect(lake_catalog, f"s3://{s3_endpoint['bucket']}/lake/") as conn:
            conn.execute("CREATE SCHEMA marts")
            conn.register("_frame", frame)
            conn.execute("CREATE TABLE marts.values AS SELECT * FROM _frame")
            back = conn.execute("SELECT * FROM marts.values ORDER BY value").pl()
    assert back.equals(frame)
    listing = (
        urllib.request.urlopen(f"{s3_endpoint['AWS_ENDPOINT_URL']}/{s3_endpoint['bucket']}").read().decode()
    )
    assert ".parquet" in listing, "the table's data is an object in the bucket"


def test_a_second_run_waits_then_fails_naming_the_run_that_holds_the_lake(lake_catalog: str, tmp_path: Path):
    data_path = f"{tmp_path / 'lake'}/"
    with LakeRunLock(lake_catalog, data_path, owner="run-that-holds"):
        started = time.monotonic()
        with pytest.raises(WarehouseBusyError, match="run run-that-holds, from") as refused:
            LakeRunLock(lake_catalog, data_path, wait_seconds=1.0, owner="second").acquire()
        assert time.monotonic() - started >= 1.0, "the second run waited its lock_wait_seconds"
        assert data_path in str(refused.value)
        # Another lake on the same catalog database is not held.
        with LakeRunLock(lake_catalog, f"{tmp_path / 'other_lake'}/"):
            pass
    with LakeRunLock(lake_catalog, data_path, owner="second"):  # released at the end of the first
        pass


_HOLD = """
import sys, time
from segmentation_pipeline.warehouse.lake_lock import LakeRunLock
lock = LakeRunLock(sys.argv[1], sys.argv[2], owner="killed")
lock.acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_a_run_killed_while_holding_the_lake_leaves_it_free(lake_catalog: str, tmp_path: Path):
    data_path = f"{tmp_path / 'lake'}/"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, lake_catalog, data_path], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseBusyError, match="run killed"):
            LakeRunLock(lake_catalog, data_path).acquire()
    finally:
        holder.kill()  # SIGKILL: no release, no clean-up; PostgreSQL ends the session
        holder.wait()
    with LakeRunLock(lake_catalog, data_path, wait_seconds=30.0):
        pass


@pytest.mark.slow  # one `python -m segmentation_pipeline run` up to its executor (~10 s)
def test_the_run_command_refuses_a_lake_another_run_holds(lake_catalog: str, tmp_path: Path):
    generate_landing_zone(tmp_path, customers=40, days=5, seed=3)
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env |= {
        "SEGMENTATION_DATA_DIR": str(tmp_path),
        "SEGMENTATION_SETTLE_SECONDS": "0",
        "SEGMENTATION_WAREHOUSE": "ducklake",
        "SEGMENTATION_DUCKLAKE_CATALOG": lake_catalog,
        "SEGMENTATION_LOCK_WAIT_SECONDS": "1",
    }
    data_path = f"{(tmp_path / 'lake').resolve()}/"
    with LakeRunLock(lake_catalog, data_path, owner="the-other-run"):
        done = subprocess.run(
            [sys.executable, "-m", "segmentation_pipeline", "run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "the run failed outside its steps: another run is using the DuckLake" in done.stdout, output
    assert "the-other-run" in done.stdout, "the message names the run that holds the lake"
    assert not (tmp_path / "marts.duckdb").exists(), "nothing was published"
    assert not list((tmp_path / "lake").rglob("*.parquet")), "no step wrote to the lake"


_PREPARE = """
import sys
from segmentation_pipeline.warehouse import lake
conn = lake.connect(sys.argv[1], sys.argv[2])
lake.prepare(conn)
"""


@pytest.mark.slow  # six processes on a new catalog (~15 s)
def test_step_processes_preparing_a_new_lake_at_once_all_start(lake_catalog: str, tmp_path: Path):
    # The first run's parallel steps all create the schemas and ops tables at once: the commits that
    # conflict are retried (a failed COMMIT has already ended its transaction), none fails the step.
    data_path = f"{tmp_path / 'lake'}/"
    steps = [
        subprocess.Popen(
            [sys.executable, "-c", _PREPARE, lake_catalog, data_path], stderr=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    errors = [step.communicate(timeout=120)[1] for step in steps]
    assert [step.returncode for step in steps] == [0] * 6, "\n".join(errors)


@pytest.mark.slow  # two `python -m segmentation_pipeline` commands on a lake (~20 s)
def test_accept_and_erase_work_on_a_lake_under_its_run_lock(lake_catalog: str, tmp_path: Path):
    data_path = f"{(tmp_path / 'lake').resolve()}/"
    with lake.connect(lake_catalog, data_path) as conn:
        lake.prepare(conn)  # the schemas and ops tables, as a first run's steps make them
        conn.execute(
            "CREATE TABLE staging.customers AS SELECT * FROM (VALUES ('C1', 'a@x.fr'), ('C2', 'b@x.fr')) t(customer_id, email)"
        )
        conn.execute(
            "CREATE TABLE marts.customer_profile AS SELECT * FROM (VALUES ('C1', 3), ('C2', 5)) t(customer_id, orders)"
        )
        conn.execute(
            "INSERT INTO ops.gate_holds (source, file, reason, held_at) "
            "VALUES ('orders', 'orders/orders_2026-06-01.csv', 'rejected share 40% > 5%', now()::TIMESTAMP)"
        )
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"} | {
        "SEGMENTATION_DATA_DIR": str(tmp_path),
        "SEGMENTATION_WAREHOUSE": "ducklake",
        "SEGMENTATION_DUCKLAKE_CATALOG": lake_catalog,
    }

    def command(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "segmentation_pipeline", *args, "--wait", "1"],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    accepted = command("accept", "orders", "orders_2026-06-01.csv", "--by", "jane")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    erased = command("erase", "C1", "NOBODY")
    assert erased.returncode == 1, erased.stdout + erased.stderr  # one id is unknown: said, not recorded
    assert "erased 1 customer(s): C1" in erased.stdout
    assert "unknown customer id(s), found nowhere, not recorded: NOBODY" in erased.stderr
    with LakeRunLock(lake_catalog, data_path, owner="a run"):  # a command waits for a run, then fails
        held = command("erase", "C2")
    assert held.returncode == 1 and "error: another run is using the DuckLake" in held.stderr, held.stderr
    assert "run a run" in held.stderr and "Traceback" not in held.stderr
    with lake.connect(lake_catalog, data_path) as conn:
        assert conn.execute("SELECT accepted_by FROM ops.gate_holds").fetchall() == [("jane",)]
        assert conn.execute("SELECT customer_id FROM staging.customers").fetchall() == [("C2",)]
        assert conn.execute("SELECT customer_id FROM marts.customer_profile").fetchall() == [("C2",)]
        assert conn.execute("SELECT customer_id FROM ops.erased_customers").fetchall() == [("C1",)]


_BUCKET = """
import sys
from segmentation_pipeline.contracts.tables.base import Column, TableContract
from segmentation_pipeline.warehouse import lake
from segmentation_pipeline.warehouse.buckets import BUCKET_TABLE, Bucket, mark_bucket_customers, staged
from segmentation_pipeline.warehouse.tables import transaction
SCORES = TableContract("marts.scores", "Scores.", (Column("customer_id", "VARCHAR", "Id."), Column("score", "DOUBLE", "Score.")))
index, of, fail = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "fail"
conn = lake.connect(sys.argv[1], sys.argv[2])
mark_bucket_customers(conn, Bucket(index, of), "staging.customers")
with transaction(conn):
    conn.execute(
        f"INSERT INTO {staged(SCORES).table} SELECT customer_id, CASE WHEN ? THEN NULL ELSE 2.0 END "
        f"FROM {BUCKET_TABLE}", [fail]
    )  # a null score breaks the contract (NOT NULL): this bucket's step fails
"""


@pytest.mark.slow  # six bucket processes on one PostgreSQL catalog (~60 s on a loaded machine)
def test_a_partitioned_table_is_published_whole_or_not_at_all(lake_catalog: str, tmp_path: Path):
    # The moves of a partitioned stage (warehouse/buckets.py), each bucket its own process as on the
    # multiprocess executor: while one bucket fails, readers keep the previous table, whole.
    from segmentation_pipeline.contracts.tables.base import Column, TableContract
    from segmentation_pipeline.warehouse.buckets import commit_staged, start_staged

    scores = TableContract(
        "marts.scores",
        "Scores.",
        (Column("customer_id", "VARCHAR", "Id."), Column("score", "DOUBLE", "Score.")),
    )
    data_path = f"{tmp_path / 'lake'}/"
    with lake.connect(lake_catalog, data_path) as conn:
        conn.execute("CREATE SCHEMA staging")
        conn.execute("CREATE SCHEMA marts")
        conn.execute("CREATE TABLE staging.customers AS SELECT 'C' || range AS customer_id FROM range(300)")
        conn.execute(scores.ddl())
        conn.execute("INSERT INTO marts.scores SELECT customer_id, 1.0 FROM staging.customers")

    def run_buckets(failing: int | None) -> list[int]:
        with lake.connect(lake_catalog, data_path) as conn:
            start_staged(conn, scores)
        steps = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _BUCKET,
                    lake_catalog,
                    data_path,
                    str(i),
                    "3",
                    "fail" if i == failing else "ok",
                ],
                stderr=subprocess.DEVNULL,
            )
            for i in range(3)
        ]
        return [step.wait(timeout=120) for step in steps]

    def published() -> list[tuple]:
        with lake.connect(lake_catalog, data_path) as conn:
            return conn.execute(
                "SELECT count(*), count(DISTINCT customer_id), min(score), max(score) FROM marts.scores"
            ).fetchall()

    codes = run_buckets(failing=1)
    assert codes[1] != 0 and codes[0] == codes[2] == 0
    # The run stops before its commit step: the readers' table is the previous one, untouched.
    assert published() == [(300, 300, 1.0, 1.0)]

    assert run_buckets(failing=None) == [0, 0, 0]  # the next run's buckets (a fresh staged table)
    with lake.connect(lake_catalog, data_path) as conn:
        reader = lake.connect(lake_catalog, data_path)
        reader.execute("BEGIN TRANSACTION")
        assert reader.execute("SELECT max(score) FROM marts.scores").fetchall() == [(1.0,)]
        commit_staged(conn, [scores])
        # A reader inside its transaction keeps its snapshot; new readers see the whole new table.
        assert reader.execute("SELECT max(score), count(*) FROM marts.scores").fetchall() == [(1.0, 300)]
        reader.execute("COMMIT")
        reader.close()
        leftovers = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE ends_with(table_name, '__next')"
        ).fetchall()
    assert published() == [(300, 300, 2.0, 2.0)], "every bucket's rows, each customer once"
    assert leftovers == []
