"""The warehouse held as a run holds it, for the commands that write it between runs (accept, erase).

On the DuckDB file: its run lock and a connection to the file. On a DuckLake: the lake's run lock
(a PostgreSQL advisory lock) and a connection with the lake attached. Either way a run started
meanwhile waits for the command, and the command waits for a run in progress.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb

from segmentation_pipeline.settings import Settings
from segmentation_pipeline.warehouse import lake
from segmentation_pipeline.warehouse.lake_lock import LakeRunLock
from segmentation_pipeline.warehouse.run_lock import RunLock


def run_lock(settings: Settings, wait_seconds: float, owner: str) -> LakeRunLock | RunLock:
    """The lock a run of `settings` holds: the lake's advisory lock, or the DuckDB file's lock file."""
    if settings.warehouse == "ducklake":
        return LakeRunLock(settings.ducklake_catalog, settings.lake_data_path, wait_seconds, owner)
    return RunLock(settings.warehouse_path, wait_seconds, owner)


def warehouse_exists(settings: Settings) -> bool:
    """Whether there is a warehouse to act on (a lake's catalog is on its server: assumed there)."""
    return settings.warehouse == "ducklake" or settings.warehouse_path.exists()


@contextlib.contextmanager
def held_warehouse(
    settings: Settings, wait_seconds: float, owner: str
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse of `settings`, with its run lock held until the block ends."""
    with run_lock(settings, wait_seconds, owner):
        if settings.warehouse == "ducklake":
            conn = lake.connect(settings.ducklake_catalog, settings.lake_data_path, settings.duckdb_config())
        else:
            conn = duckdb.connect(str(settings.warehouse_path))
        try:
            if settings.warehouse == "ducklake":
                lake.prepare(conn)  # the schemas and ops tables, as a run's steps make them first
            yield conn
        finally:
            conn.close()
