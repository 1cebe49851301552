"""One run at a time per DuckLake: a PostgreSQL advisory lock on the lake's catalog database.

The DuckDB file has its lock file (run_lock.py). A lake's steps run in many processes, or pods, that
share no disk; what they all reach is the catalog database, so the lock lives there. The process
that drives the run (the one running Dagster's executor) takes it before the first step and holds
it until the last step ends. It is a session lock: PostgreSQL drops it when that connection ends,
so a run that is killed never leaves the lake locked, and no stale lock needs clearing by hand.
"""

from __future__ import annotations

import hashlib
import time

import psycopg

from segmentation_pipeline.warehouse.run_lock import WarehouseBusyError

# Held by the session whose application_name says which run holds it (PostgreSQL keeps 63 bytes).
APPLICATION_PREFIX = "segmentation run "


def lock_key(data_path: str) -> int:
    """The advisory-lock key of one lake: a signed 64-bit hash of its data path.

    Advisory locks are per database, and a catalog database holds one lake; the data path in the
    key keeps two lakes apart should they share a database under different paths.
    """
    digest = hashlib.blake2b(f"segmentation-pipeline|{data_path}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class LakeRunLock:
    """Hold the lake for one run; a second run waits `wait_seconds`, then fails naming the holder."""

    def __init__(self, catalog_url: str, data_path: str, wait_seconds: float = 0.0, owner: str = ""):
        self.catalog_url = catalog_url
        self.data_path = data_path
        self.wait_seconds = wait_seconds
        self.owner = owner
        self.key = lock_key(data_path)
        self._conn: psycopg.Connection | None = None

    def acquire(self) -> None:
        conn = psycopg.connect(
            self.catalog_url,
            autocommit=True,
            application_name=(APPLICATION_PREFIX + self.owner)[:63],
            connect_timeout=30,
            # The lock lasts as long as this idle session: keepalives stop a firewall from
            # silently dropping it during a long run.
            keepalives=1,
            keepalives_idle=60,
        )
        deadline = time.monotonic() + self.wait_seconds
        try:
            while not conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0]:
                if time.monotonic() >= deadline:
                    raise WarehouseBusyError(
                        f"another run is using the DuckLake at {self.data_path} ({self._holder(conn)}); "
                        f"this run did not start. Wait for it to finish, then run again."
                    )
                time.sleep(0.5)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _holder(self, conn: psycopg.Connection) -> str:
        """Who holds the lock, from PostgreSQL's lock table: the run, its client and since when."""
        unsigned = self.key & 0xFFFF_FFFF_FFFF_FFFF
        row = conn.execute(
            """
            SELECT a.application_name, a.client_addr::text, a.backend_start
            FROM pg_locks AS l JOIN pg_stat_activity AS a USING (pid)
            WHERE l.locktype = 'advisory' AND l.granted
              AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid AND l.objsubid = 1
            """,
            (unsigned >> 32, unsigned & 0xFFFF_FFFF),
        ).fetchone()
        if row is None:
            return "holder unknown: it has just finished"
        name, client, since = row
        run = name.removeprefix(APPLICATION_PREFIX) if name.startswith(APPLICATION_PREFIX) else name
        return (
            f"run {run or 'unknown'}, from {client or 'a local socket'}, since {since:%Y-%m-%d %H:%M:%S %Z}"
        )

    def release(self) -> None:
        if self._conn is not None:
            self._conn.close()  # ending the session releases the lock
            self._conn = None

    def __enter__(self) -> LakeRunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
