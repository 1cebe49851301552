"""Operating the pipeline for real: BI readers during a run, SIGKILL at any stage, concurrent runs, erasure.

Each test works on its own copy of a warehouse built by one real run (analysis date one day
before the newest files), so the run under test has a new day to load, as every morning.
Runs are real child processes (`python -m segmentation_pipeline run`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from segmentation_pipeline.synth import generate_landing_zone
from segmentation_pipeline.warehouse.run_lock import RunLock

END = dt.date(2026, 6, 30)
PREVIOUS_DAY = END - dt.timedelta(days=1)
ROOT = Path(__file__).resolve().parents[2]


def pipeline(data_dir: Path, *args: str, as_of: str = "", wait: str = "120", **popen) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(
        SEGMENTATION_DATA_DIR=str(data_dir),
        SEGMENTATION_AS_OF=as_of,
        SEGMENTATION_LOCK_WAIT_SECONDS=wait,
        SEGMENTATION_SETTLE_SECONDS="0",  # the files were generated a moment ago
    )
    return subprocess.Popen(
        [sys.executable, "-m", "segmentation_pipeline", *(args or ("run",))],
        env=env,
        cwd=ROOT,
        text=True,
        **popen,
    )


def run_ok(data_dir: Path, *args: str, as_of: str = "") -> str:
    process = pipeline(data_dir, *args, as_of=as_of, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output[-3000:]
    return output


def published(data_dir: Path) -> tuple[dt.date, int, int]:
    """(as_of_date, customers in customer_profile, customers summed over segments) of the BI snapshot."""
    with duckdb.connect(str(data_dir / "marts.duckdb"), read_only=True) as conn:
        return conn.execute(
            "SELECT (SELECT max(as_of_date) FROM customer_profile), (SELECT count(*) FROM customer_profile), "
            "(SELECT sum(customers) FROM segments)"
        ).fetchall()[0]


def assert_consistent_warehouse(data_dir: Path) -> None:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as conn:
        duplicates = conn.execute(
            "SELECT count(*) FROM (SELECT order_id, line_number FROM staging.orders GROUP BY ALL HAVING count(*) > 1)"
        ).fetchall()[0][0]
        assert duplicates == 0
        mismatched = conn.execute(
            """SELECT count(*) FROM ops.landing_files m
               LEFT JOIN (SELECT _source_file, count(*) AS n FROM staging.orders GROUP BY ALL) s ON s._source_file = m.file
               WHERE m.source = 'orders' AND coalesce(s.n, 0) <> m.rows_loaded"""
        ).fetchall()[0][0]
        assert mismatched == 0


@pytest.fixture(scope="module")
def base_state(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("ops") / "data"
    generate_landing_zone(data_dir, customers=800, days=200, seed=11, end_date=END)
    run_ok(data_dir, as_of=PREVIOUS_DAY.isoformat())
    assert published(data_dir)[0] == PREVIOUS_DAY
    return data_dir


@pytest.fixture
def data_dir(base_state, tmp_path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(base_state, copy, symlinks=True)
    return copy


READER = """
import duckdb, json, sys, time, pathlib
snapshot, ready, stop = sys.argv[1:4]
conn = duckdb.connect(snapshot, read_only=True)
seen, errors = [], []
while not pathlib.Path(stop).exists():
    try:
        seen.append([str(v) for v in conn.execute(
            "SELECT (SELECT max(as_of_date) FROM customer_profile), (SELECT count(*) FROM customer_profile), "
            "(SELECT sum(customers) FROM segments)").fetchall()[0]])
    except Exception as error:
        errors.append(repr(error))
    pathlib.Path(ready).touch()
    time.sleep(0.05)
print(json.dumps({"seen": seen, "errors": errors}))
"""


def test_a_bi_connection_open_through_a_run_neither_blocks_it_nor_sees_a_mix(data_dir, tmp_path):
    ready, stop = tmp_path / "ready", tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(data_dir / "marts.duckdb"), str(ready), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    while not ready.exists():
        time.sleep(0.05)
    run_ok(data_dir)  # the run completes while the BI connection stays open
    stop.touch()
    report = json.loads(reader.communicate(timeout=60)[0])
    assert report["errors"] == []
    assert len(report["seen"]) > 10
    for as_of, customers, in_segments in report["seen"]:
        assert as_of in (str(PREVIOUS_DAY), str(END))
        assert customers == in_segments  # always one complete publication, never a mix
    assert published(data_dir)[0] == END  # a new connection sees the new marts
    parquet = duckdb.sql(
        f"SELECT max(as_of_date) FROM '{data_dir}/marts/customer_profile.parquet'"
    ).fetchall()[0][0]
    assert parquet == END


@pytest.mark.parametrize(
    "step",
    [
        "staging__orders",
        "customer_feature_tables",
        "models__customer_segments",
        "publication__marts_snapshot",
    ],
)
def test_sigkill_at_any_stage_leaves_the_last_good_state_and_the_next_run_completes(data_dir, step):
    before = published(data_dir)
    process = pipeline(data_dir, "run", "--verbose", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = []
    for line in process.stderr:
        seen.append(line)
        if f'Started execution of step "{step}"' in line:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=120)
    assert process.returncode == -signal.SIGKILL, f"step {step} never started:\n" + "".join(seen[-40:])
    as_of, customers, in_segments = published(data_dir)
    assert customers == in_segments  # the published marts are complete...
    assert (as_of, customers) == before[
        :2
    ] or as_of == END  # ...and either the last good ones or the new ones
    run_ok(data_dir)
    assert published(data_dir)[0] == END
    assert_consistent_warehouse(data_dir)


def test_two_runs_started_at_once_do_not_corrupt_anything(data_dir):
    first = pipeline(data_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    second = pipeline(data_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    outputs = [p.communicate(timeout=300)[0] for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    assert published(data_dir)[0] == END
    assert_consistent_warehouse(data_dir)


def test_a_run_that_cannot_get_the_warehouse_fails_with_a_clear_message(data_dir):
    with RunLock(data_dir / "warehouse.duckdb", owner="a long backfill"):
        process = pipeline(data_dir, wait="0", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output, _ = process.communicate(timeout=300)
    assert process.returncode != 0
    assert "another run is using the warehouse" in output and "a long backfill" in output


def test_erasure_removes_a_customer_everywhere_and_keeps_them_out(data_dir):
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as conn:
        customer, order_file = conn.execute(
            """SELECT o.customer_id, any_value(o._source_file) FROM staging.orders o
               JOIN staging.social s USING (customer_id) GROUP BY 1 ORDER BY 1 LIMIT 1"""
        ).fetchall()[0]
    output = run_ok(data_dir, "erase", customer)
    assert f"erased 1 customer(s): {customer}" in output
    assert "staging.orders:" in output and "marts.customer_profile: 1 row(s) removed" in output

    def rows_of_customer(database: Path) -> dict[str, int]:
        with duckdb.connect(str(database), read_only=True) as conn:
            tables = conn.execute(
                # ops.erased_customers is the register of erased ids that keeps them out of later loads.
                "SELECT DISTINCT table_schema || '.' || table_name FROM information_schema.columns "
                "WHERE column_name = 'customer_id' AND table_schema <> 'ops'"
            ).fetchall()
            found = {
                t: conn.execute(f"SELECT count(*) FROM {t} WHERE customer_id = ?", [customer]).fetchall()[0][
                    0
                ]
                for (t,) in tables
            }
        return {t: n for t, n in found.items() if n}

    assert rows_of_customer(data_dir / "warehouse.duckdb") == {}
    assert rows_of_customer(data_dir / "marts.duckdb") == {}
    for path in (data_dir / "marts").glob("*.parquet"):
        columns = [c[0] for c in duckdb.sql(f"DESCRIBE SELECT * FROM '{path}'").fetchall()]
        if "customer_id" in columns:
            assert (
                duckdb.sql(
                    f"SELECT count(*) FROM '{path}' WHERE customer_id = ?", params=[customer]
                ).fetchall()[0][0]
                == 0
            )
    assert len(list((data_dir / ".marts_versions").iterdir())) == 1  # no older copy left behind

    # A re-landed file with the customer's rows: rejected unread, never back in staging.
    path = data_dir / "raw" / order_file
    path.write_text(path.read_text() + "\n")
    run_ok(data_dir)
    assert rows_of_customer(data_dir / "warehouse.duckdb") == {}
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as conn:
        rules = conn.execute(
            "SELECT rule, raw_values FROM quarantine.orders WHERE _source_file = ?", [order_file]
        ).fetchall()
    assert rules and all("customer erased" in rule and raw is None for rule, raw in rules)
