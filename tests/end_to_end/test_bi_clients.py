"""The published snapshot opens in the oldest DuckDB client the README promises, as BI tools embed it.

DBeaver, Evidence and Superset each ship their own DuckDB; a snapshot that one of them cannot open
is no publication at all. The old client is a real DuckDB from PyPI in a throwaway environment,
cached under .cache/ so that later runs do not download it again.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from segmentation_pipeline.definitions import JOB_NAME, build_definitions
from segmentation_pipeline.settings import Settings
from segmentation_pipeline.synth import generate_landing_zone

ROOT = Path(__file__).resolve().parents[2]
OLDEST_CLIENT = "1.0.0"  # README, "Pointing a BI tool at the marts"; publish.SNAPSHOT_STORAGE_VERSION
# and the 1.4 long-term-support line, which DBeaver and older Evidence builds embed.
CLIENTS = [OLDEST_CLIENT, "1.4.0"]
END = dt.date(2026, 6, 30)

READ_EVERY_MART = """
import duckdb, json, pathlib, sys
snapshot, parquet_dir = sys.argv[1:3]
conn = duckdb.connect(snapshot, read_only=True)
tables = [t for (t,) in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()]
print(json.dumps({
    "version": duckdb.__version__,
    # fetchall reads every value of every column, not only the row count in the metadata.
    "snapshot": {t: len(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables},
    "parquet": {p.stem: len(duckdb.sql(f"SELECT * FROM '{p}'").fetchall())
                for p in pathlib.Path(parquet_dir).glob("*.parquet")},
}))
"""


def duckdb_client(version: str) -> Path:
    """Python of an environment holding DuckDB `version` alone, made once and reused."""
    env_dir = ROOT / ".cache" / f"duckdb-client-{version}"
    python = env_dir / "bin" / "python"
    if python.exists():
        return python
    uv = Path(sys.executable).with_name("uv")  # installed into .venv by the Makefile
    building = env_dir.with_name(env_dir.name + ".partial")
    shutil.rmtree(building, ignore_errors=True)
    subprocess.run([str(uv), "venv", "--quiet", "--python", sys.executable, str(building)], check=True)
    subprocess.run(
        [
            str(uv),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(building / "bin" / "python"),
            f"duckdb=={version}",
        ],
        check=True,
    )
    building.rename(env_dir)  # only a complete environment gets the name that is reused
    return python


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("bi_clients")
    generate_landing_zone(data_dir, customers=600, days=200, seed=3, end_date=END)
    result = (
        build_definitions(Settings(data_dir=data_dir, settle_seconds=0))
        .resolve_job_def(JOB_NAME)
        .execute_in_process()
    )
    assert result.success
    return data_dir


@pytest.mark.parametrize("version", CLIENTS)
def test_an_older_duckdb_client_reads_every_mart_of_the_snapshot_and_the_parquet_files(published, version):
    python = duckdb_client(version)
    out = subprocess.run(
        [str(python), "-c", READ_EVERY_MART, str(published / "marts.duckdb"), str(published / "marts")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout)
    assert report["version"] == version
    with duckdb.connect(str(published / "warehouse.duckdb"), read_only=True) as conn:
        marts = {
            table: conn.execute(f"SELECT count(*) FROM marts.{table}").fetchall()[0][0]
            for (table,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
            ).fetchall()
        }
    assert {"customer_profile", "segments", "rfm_segments", "segment_migrations"} <= set(marts)
    assert report["snapshot"] == marts  # every mart, every row, as the warehouse has it
    assert report["parquet"] == marts
