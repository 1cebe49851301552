"""The run lock: a second holder waits its bounded time, then fails naming the first; release frees it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from segmentation_pipeline.warehouse.run_lock import RunLock, WarehouseBusyError

TRY_LOCK = """
import sys, time
from pathlib import Path
from segmentation_pipeline.warehouse.run_lock import RunLock, WarehouseBusyError
started = time.monotonic()
try:
    RunLock(Path(sys.argv[1]), wait_seconds=float(sys.argv[2]), owner="second").acquire()
    print("acquired")
except WarehouseBusyError as error:
    print(f"busy after {time.monotonic() - started:.2f} s: {error}")
"""


def try_lock(warehouse: Path, wait: float) -> str:
    """What another process gets when it asks for the lock."""
    return subprocess.run(
        [sys.executable, "-c", TRY_LOCK, str(warehouse), str(wait)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_a_held_warehouse_fails_another_process_in_its_wait_naming_the_holder(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with RunLock(warehouse, owner="a long backfill"):
        output = try_lock(warehouse, 1.0)
    assert output.startswith("busy after ") and "another run is using the warehouse" in output
    assert "a long backfill" in output and '"pid": ' in output
    waited = float(output.removeprefix("busy after ").split(" s:")[0])
    assert 1.0 <= waited < 2.5
    assert (tmp_path / "warehouse.duckdb.lock").read_text() == ""  # no stale holder left behind
    assert try_lock(warehouse, 0) == "acquired\n"  # released on leaving the block


def test_a_second_lock_in_the_same_process_is_refused_at_once_and_release_is_idempotent(tmp_path):
    first = RunLock(tmp_path / "w.duckdb", owner="first")
    first.acquire()
    started = time.monotonic()
    with pytest.raises(WarehouseBusyError, match="first"):
        RunLock(tmp_path / "w.duckdb").acquire()
    assert time.monotonic() - started < 1.0
    first.release()
    first.release()
    with RunLock(tmp_path / "w.duckdb", owner="again") as again:
        assert '"run": "again"' in again.path.read_text()
