"""Dagster resources: the run's settings and the warehouse (a DuckDB file, or a DuckLake)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from segmentation_pipeline.settings import Settings
from segmentation_pipeline.warehouse import lake
from segmentation_pipeline.warehouse.run_lock import (
    RunLock,
    WarehouseBusyError,
    check_not_held_by_another_process,
)

# The run's analysis date, resolved once when the run is requested (CLI, schedule, sensor) and
# recorded on it; every step reads the same date.
ANALYSIS_DATE_TAG = "segmentation/analysis_date"
DATA_DIR_TAG = "segmentation/data_dir"


def run_tags(settings: Settings) -> dict[str, str]:
    """The tags of a run over these settings: its analysis date (resolved now) and data dir."""
    return {
        ANALYSIS_DATE_TAG: settings.analysis_date().isoformat(),
        DATA_DIR_TAG: str(settings.data_dir.resolve()),
    }


class PipelineSettings(dg.ConfigurableResource):
    """The run's settings as Dagster config: the fields of settings.Settings, without defaults.

    Settings holds the only defaults and checks; this resource is always built from a checked
    Settings (`from_settings`), and `settings()` checks again whatever the run's config changed.
    tests/unit/test_settings.py keeps the two field lists equal.
    """

    data_dir: str
    as_of: str
    reject_threshold: float
    rfm_monetary: str
    cost_per_effort_point: float
    annual_discount_rate: float
    holdout_days: int
    brand: str
    category: str
    category_fr: str
    claim_support: float
    lock_wait_seconds: float
    duckdb_memory_limit: str
    features_duckdb_memory_limit: str
    full_refresh: bool
    currency: str
    assumed_margin_rate: float | None
    settle_seconds: float
    expected_rejections: str
    warehouse: str
    ducklake_catalog: str
    ducklake_data_path: str
    workers: int

    @classmethod
    def from_settings(cls, settings: Settings) -> PipelineSettings:
        values = {k: getattr(settings, k) for k in cls.model_fields}
        return cls(**{**values, "data_dir": str(settings.data_dir)})

    def settings(self) -> Settings:
        values = {k: getattr(self, k) for k in type(self).model_fields}
        return Settings(**{**values, "data_dir": Path(self.data_dir)})

    _as_of: dt.date | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Once per run: the run's tag when it has one, else resolved now (a file landing mid-run
        # cannot move the date between steps).
        tag = context.run.tags.get(ANALYSIS_DATE_TAG) if context.run else None
        self._as_of = dt.date.fromisoformat(tag) if tag else self.settings().analysis_date()

    def analysis_date(self) -> dt.date:
        return self._as_of or self.settings().analysis_date()


class Warehouse(DuckDBResource):
    """The DuckDB warehouse, held exclusively by one run from its first step to its end.

    `lock_wait_seconds`: how long a second run waits for the first before failing.
    """

    lock_wait_seconds: float = 60.0
    _lock: RunLock | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run_id = context.run.run_id if context.run else ""
        self._lock = RunLock(Path(self.database), self.lock_wait_seconds, owner=run_id)
        self._lock.acquire()
        try:
            check_not_held_by_another_process(Path(self.database))
        except WarehouseBusyError:
            self._lock.release()
            raise

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.release()


class LakeWarehouse(DuckDBResource):
    """The warehouse as a DuckLake: catalog in PostgreSQL, tables as Parquet under `data_path`.

    Each step opens its own connection (in its own process under the multiprocess executor, or its
    own pod under `k8s_job_executor`); the catalog orders their commits, so steps write at once.
    A DuckDBResource with another connection, so the assets take either warehouse unchanged.
    """

    database: str = ":memory:"  # DuckDB's own database only holds the session's temporary objects
    catalog: str
    data_path: str

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        with self.get_connection() as conn:
            lake.prepare(conn)

    @contextlib.contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        conn = lake.connect(self.catalog, self.data_path, self.connection_config)
        try:
            yield conn
        finally:
            conn.close()
