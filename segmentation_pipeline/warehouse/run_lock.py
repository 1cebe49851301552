"""One run at a time per warehouse: an exclusive lock file held for the whole run.

DuckDB admits one writing process per file; two runs interleaving their steps would each see the
other's half-done work. The lock makes the second run wait a bounded time, then fail with a
message that says who holds the warehouse.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import time
from pathlib import Path

import duckdb


class WarehouseBusyError(RuntimeError):
    pass


class RunLock:
    def __init__(self, warehouse_path: Path, wait_seconds: float = 0.0, owner: str = ""):
        self.path = warehouse_path.with_name(warehouse_path.name + ".lock")
        self.wait_seconds = wait_seconds
        self.owner = owner
        self._handle = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "unknown"
                    handle.close()
                    raise WarehouseBusyError(
                        f"another run is using the warehouse {self.path.with_suffix('')} ({holder}); "
                        f"this run did not start. Wait for it to finish, then run again."
                    ) from None
                time.sleep(0.5)
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "run": self.owner,
                    "since": dt.datetime.now().isoformat(timespec="seconds"),
                }
            )
        )
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

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
