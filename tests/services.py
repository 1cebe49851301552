"""Throw-away services for the DuckLake mode: a PostgreSQL cluster (the catalog) and an S3 endpoint.

Each is a context manager that starts a real server on a free port of 127.0.0.1 in a temporary
directory and stops and removes it on exit. Used by the tests' fixtures and by `make bench`.
PostgreSQL comes from Debian's `postgresql-15` (`make services` installs it); S3 from `moto[server]`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


class ServiceError(RuntimeError):
    """A service that could not start: says what to install or where its log is."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bin_dir() -> Path:
    """The newest installed PostgreSQL's bin dir (Debian puts it under /usr/lib/postgresql/N/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if found:
        return found[-1].parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).resolve().parent
    raise ServiceError("PostgreSQL is not installed: run `make services` (apt-get install postgresql-15)")


def _as_postgres(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; the machines here run as root, so run it as its own user.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """A fresh PostgreSQL cluster; yields the URL of its `postgres` database (see `create_database`)."""
    bin_dir = postgres_bin_dir()
    root = Path(tempfile.mkdtemp(prefix="segmentation-pg-"))
    data, log = root / "data", root / "postgres.log"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    try:
        subprocess.run(
            _as_postgres(
                [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c max_connections=200"
        started = subprocess.run(
            _as_postgres(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"]
            ),
            capture_output=True,
            text=True,
        )
        if started.returncode != 0:
            raise ServiceError(f"PostgreSQL did not start on port {port}: {log.read_text()[-2000:]}")
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    """A new empty database on the server of `server_url` (one per DuckLake catalog); returns its URL."""
    subprocess.run(
        [str(postgres_bin_dir() / "psql"), server_url, "-q", "-c", f'CREATE DATABASE "{name}"'],
        check=True,
        capture_output=True,
    )
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def wait_for_http(
    url: str, process: subprocess.Popen, name: str, seconds: float = 30.0, log: Path | None = None
) -> None:
    """Until `url` answers (status 2xx); ServiceError, with the end of `log`, if `process` exits first
    or the time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceError(
                f"the {name} exited with {process.returncode} before answering at {url}{_tail(log)}"
            )
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise ServiceError(f"the {name} did not answer at {url} within {seconds:.0f} s{_tail(log)}")


def _tail(log: Path | None) -> str:
    return f":\n{log.read_text(errors='replace')[-3000:]}" if log else ""


def stop(process: subprocess.Popen, seconds: float = 10.0) -> None:
    """Terminate a server, and kill it if it has not exited within `seconds`."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def s3_server(bucket: str = "segmentation-lake") -> Iterator[dict[str, str]]:
    """A local S3 endpoint (moto) with one empty bucket; yields the AWS_* variables that reach it."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(endpoint, process, "S3 server")
        # moto accepts any credentials; the bucket must exist before DuckDB writes into it.
        urllib.request.urlopen(
            urllib.request.Request(f"{endpoint}/{bucket}", method="PUT"), timeout=10
        ).close()
        yield {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint,
            "bucket": bucket,
        }
    finally:
        stop(process)
