"""Shared fixtures and helpers: a landing zone written by hand, file by file; the whole job run on a data dir."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest
from hypothesis import settings

from tests.services import create_database, postgres_cluster, s3_server

if TYPE_CHECKING:
    import dagster as dg

# Property tests: 200 examples each in `make test`; `make test-fast` (--hypothesis-profile=fast)
# draws 25, enough to catch a broken invariant in the dev loop, at an eighth of their time.
settings.register_profile("full", max_examples=200, deadline=None)
settings.register_profile("fast", max_examples=25, deadline=None)
settings.load_profile("full")

# The pipeline (Dagster, scikit-learn, Pandera: seconds of imports) is imported where it is used,
# not here: pytest-xdist's controlling process loads this file too, before it starts the workers.

ORDER_HEADER = "order_id,line_number,customer_id,ordered_at,channel,product_id,quantity,unit_price,discount,status,occasion,payment_days_late"


def write_landing(raw_dir: Path, source: str, day: str, text: str | bytes, ext: str = "csv") -> Path:
    path = raw_dir / source / f"{source}_{day}.{ext}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    path = tmp_path / "raw"
    path.mkdir()
    return path


@pytest.fixture
def conn(tmp_path: Path):
    from segmentation_pipeline.warehouse.tables import ensure_schemas

    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_schemas(connection)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def postgres_server():
    """One throw-away PostgreSQL cluster for the session (started on first use, removed at the end)."""
    with postgres_cluster() as url:
        yield url


@pytest.fixture
def lake_catalog(postgres_server: str) -> str:
    """The URL of a new, empty DuckLake catalog database on the session's PostgreSQL."""
    return create_database(postgres_server, f"lake_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def s3_endpoint():
    """A local S3 endpoint (moto) with an empty bucket; the AWS_* variables that reach it, and the bucket."""
    with s3_server() as endpoint:
        yield endpoint


AS_OF = dt.date(2025, 1, 31)


# SPEC tables main does not build yet: skipped by test_pipeline, strict xfails in test_real_exports
# (remove a table here once it is built).
NOT_BUILT_YET: set[str] = set()


def run_daily_job(data_dir: Path, **settings: str) -> dg.ExecuteInProcessResult:
    """One in-process run of the daily job on `data_dir`, as an operator would start it.

    `settings` are SEGMENTATION_* environment variables without the prefix (CURRENCY="GBP"), read
    through `Settings.from_env` so the test covers the documented variables, not only the dataclass.
    """
    from segmentation_pipeline.definitions import JOB_NAME, build_definitions
    from segmentation_pipeline.settings import Settings

    with pytest.MonkeyPatch.context() as env:
        env.setenv("SEGMENTATION_DATA_DIR", str(data_dir))
        env.setenv("SEGMENTATION_SETTLE_SECONDS", "0")  # the files were written a moment ago, complete
        for name, value in settings.items():
            env.setenv(f"SEGMENTATION_{name.upper()}", value)
        job = build_definitions(Settings.from_env()).resolve_job_def(JOB_NAME)
        return job.execute_in_process(raise_on_error=False)


def failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    """What a failed run says: step failures and failed blocking checks, for assertion messages."""
    messages = [str(e.event_specific_data.error.message) for e in result.get_step_failure_events()]
    checks = [
        e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    messages += [f"{c.check_name}: {c.metadata}" for c in checks if not c.passed]
    return messages


def published_marts(data_dir: Path) -> duckdb.DuckDBPyConnection:
    """Read-only connection to the snapshot a BI tool reads (data/marts.duckdb)."""
    return duckdb.connect(str(data_dir / "marts.duckdb"), read_only=True)


def columns_of(conn: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in conn.execute(f"DESCRIBE {table}").fetchall()]


def pytest_collection_modifyitems(items):
    # Everything under end_to_end/ runs the real pipeline (or Superset): `make test-fast` skips it.
    for item in items:
        if "end_to_end" in item.path.parts:
            item.add_marker(pytest.mark.slow)
