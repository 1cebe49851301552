"""DuckLake connections on a real PostgreSQL catalog: what one process commits, another reads; data on S3."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

import polars as pl
import pytest

from segmentation_pipeline.warehouse import lake

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
