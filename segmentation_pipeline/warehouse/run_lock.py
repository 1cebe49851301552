"""One run at a time per warehouse: an exclusive lock file held for the whole run.

DuckDB admits one writing process per file; two runs interleaving their steps would each see the
other's half-done work. The lock (filelock's OS lock on `<warehouse>.lock`) makes the second run
wait a bounded time, then fail with a message that says who holds the warehouse: the holder
writes its pid, run and start time into the lock file once it has the lock (filelock never
truncates a held lock file, and keeps the file on release).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout


class WarehouseBusyError(RuntimeError):
    pass


class RunLock:
    def __init__(self, warehouse_path: Path, wait_seconds: float = 0.0, owner: str = ""):
        self.path = warehouse_path.with_name(warehouse_path.name + ".lock")
        self.owner = owner
        self._lock = FileLock(
            self.path,
            timeout=wait_seconds,
            poll_interval=0.5,
            preserve_lock_file=True,
            fallback_to_soft=False,  # no flock (some network file systems): fail rather than lock softly
            on_acquired=self._write_holder,
            thread_local=False,  # a resource may take the lock in one thread and release it in another
        )

    def _write_holder(self, fd: int) -> None:
        holder = {
            "pid": os.getpid(),
            "run": self.owner,
            "since": dt.datetime.now().isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            holder = self.path.read_text(errors="replace").strip() or "unknown"
            raise WarehouseBusyError(
                f"another run is using the warehouse {self.path.with_suffix('')} ({holder}); "
                f"this run did not start. Wait for it to finish, then run again."
            ) from None

    def release(self) -> None:
        if self._lock.is_locked:
            os.truncate(self.path, 0)  # still held: nobody reads a finished run as the holder
            self._lock.release()

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _command_line(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "unknown command"


def check_not_held_by_another_process(database: Path) -> None:
    """Fail at once, naming the holder, when another process (a BI tool, a shell) holds the DuckDB file.

    Dagster's DuckDB resource retries a held file for minutes; one open here says it in a second.
    """
    if not database.exists():
        return
    try:
        duckdb.connect(str(database)).close()
    except duckdb.IOException as error:
        found = re.search(r"Conflicting lock is held in (.*?) \(PID (\d+)\)", str(error))
        if not found:
            raise
        pid = found.group(2)
        raise WarehouseBusyError(
            f"the warehouse {database} is held by process {pid} ({_command_line(pid)}): DuckDB admits one "
            f"writer per file, so this run did not start. Close that program (BI tools read the published "
            f"snapshot marts.duckdb, never the warehouse), then run again."
        ) from None
