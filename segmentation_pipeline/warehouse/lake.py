"""DuckLake access: a DuckDB connection whose default catalog is a DuckLake (PostgreSQL catalog, Parquet data).

The warehouse's SQL names tables `schema.table`; with the lake attached and `USE`d, the same names
resolve to the lake's tables, so the assets run unchanged on either warehouse.
"""

from __future__ import annotations

import importlib
import os
import platform
import random
import tempfile
import time
from pathlib import Path

import duckdb

from segmentation_pipeline.contracts.tables import OPS_TABLES
from segmentation_pipeline.warehouse.tables import ensure_schemas, ensure_table, rollback

LAKE_ALIAS = "lake"
# Extension wheel (duckdb-extension-<wheel>) → the name DuckDB loads it by (its entry point).
EXTENSION_WHEELS = {"ducklake": "ducklake", "postgres": "postgres_scanner", "httpfs": "httpfs"}


def _platform() -> str:
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return f"{platform.system().lower()}_{machine}"


def extension_directory() -> Path:
    """A DuckDB extension directory holding the wheels' extensions under their canonical names.

    The wheels ship `extensions/v<version>/<wheel>.duckdb_extension`; DuckDB looks for
    `<dir>/v<version>/<platform>/<canonical>.duckdb_extension` and derives the entry point from the
    file name (the postgres wheel's file is named `postgres`, its entry point `postgres_scanner`).
    Symbolic links make that layout once per machine and user, so `LOAD postgres` and the autoloading
    that `ATTACH 'ducklake:postgres:…'` does find them without reaching DuckDB's extension server.
    """
    version = duckdb.__version__
    root = Path(tempfile.gettempdir()) / f"segmentation-duckdb-extensions-{os.getuid()}"
    target_dir = root / f"v{version}" / _platform()
    target_dir.mkdir(parents=True, exist_ok=True)
    for wheel, canonical in EXTENSION_WHEELS.items():
        module = importlib.import_module(f"duckdb_extension_{wheel}")
        source = Path(module.__path__[0]) / "extensions" / f"v{version}" / f"{wheel}.duckdb_extension"
        if not source.exists():
            raise RuntimeError(f"{source} is missing: duckdb-extension-{wheel} must be version {version}")
        link = target_dir / f"{canonical}.duckdb_extension"
        if not (link.is_symlink() and link.resolve() == source.resolve()):
            tmp = link.with_name(f".{link.name}.{os.getpid()}")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(source)
            tmp.replace(link)  # atomic: parallel step processes may do this at once
    return root


def catalog_connection_string(url: str) -> str:
    """`postgresql://user@host:port/db` or libpq's `dbname=… host=…` as DuckLake's `postgres:` part."""
    return f"postgres:{url}"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_s3_secret(conn: duckdb.DuckDBPyConnection) -> None:
    """Object-storage credentials from the standard AWS variables (the same ones boto3 and the AWS CLI read).

    `AWS_ENDPOINT_URL` points at an S3-compatible server (MinIO, moto, Ceph); without it, AWS itself.
    """
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID", ""), os.environ.get("AWS_SECRET_ACCESS_KEY", "")
    options = [f"REGION {_quote(os.environ.get('AWS_REGION', 'us-east-1'))}"]
    if key:
        options += [f"KEY_ID {_quote(key)}", f"SECRET {_quote(secret)}"]
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if endpoint:
        scheme, _, host = endpoint.partition("://")
        options += [f"ENDPOINT {_quote(host.rstrip('/'))}", "URL_STYLE 'path'"]
        options.append(f"USE_SSL {'true' if scheme == 'https' else 'false'}")
    # CREATE SECRET takes no bound parameters; the values are quoted.
    conn.execute(f"CREATE OR REPLACE SECRET lake_s3 (TYPE s3, {', '.join(options)})")


# One DuckDB database per process and lake: loading the three extensions takes seconds (large
# shared objects), so each step's connections are cursors on it (own transaction, same attachments).
_DATABASES: dict[tuple, duckdb.DuckDBPyConnection] = {}


def _database(catalog_url: str, data_path: str, config: dict[str, str]) -> duckdb.DuckDBPyConnection:
    key = (catalog_url, data_path, tuple(sorted(config.items())))
    if key not in _DATABASES:
        settings = {
            "extension_directory": str(extension_directory()),
            "autoinstall_known_extensions": "false",
        }
        conn = duckdb.connect(":memory:", config={**settings, **config})
        try:
            for canonical in EXTENSION_WHEELS.values():
                conn.execute(f"LOAD {canonical}")
            if data_path.startswith("s3://"):
                create_s3_secret(conn)
            _attach(conn, catalog_url, data_path)
        except BaseException:
            conn.close()
            raise
        _DATABASES[key] = conn
    return _DATABASES[key]


def _attach(conn: duckdb.DuckDBPyConnection, catalog_url: str, data_path: str, attempts: int = 10) -> None:
    """ATTACH the lake; on an empty catalog database, the first ATTACH creates DuckLake's tables.

    Two step processes attaching a brand-new catalog at once both try to create them and one fails
    ("Failed to initialize DuckLake": PostgreSQL's duplicate key): it waits and attaches again, to
    the catalog the other one made (seen on the first run's parallel staging loads).
    """
    sql = (
        f"ATTACH {_quote('ducklake:' + catalog_connection_string(catalog_url))} AS {LAKE_ALIAS} "
        f"(DATA_PATH {_quote(data_path)})"
    )
    for attempt in range(attempts):
        try:
            conn.execute(sql)
            return
        except duckdb.Error as error:
            if "Failed to initialize DuckLake" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.2 + random.random() * 0.3 * (attempt + 1))


def connect(
    catalog_url: str, data_path: str, config: dict[str, str] | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection whose default catalog is the lake (close it after use)."""
    conn = _database(catalog_url, data_path, config or {}).cursor()
    conn.execute(f"USE {LAKE_ALIAS}")
    return conn


def prepare(conn: duckdb.DuckDBPyConnection, attempts: int = 20) -> None:
    """The schemas and shared ops tables, created before parallel steps race to create them.

    Two transactions that create the same schema or table conflict in DuckLake (the second fails
    at commit); once they exist, `IF NOT EXISTS` writes nothing and cannot conflict. So every step
    process runs this first and retries on a conflict (only the first run's first steps meet one).
    """
    for attempt in range(attempts):
        try:
            conn.execute("BEGIN TRANSACTION")
            ensure_schemas(conn)
            for contract in OPS_TABLES:  # several steps create (IF NOT EXISTS) and write them
                ensure_table(conn, contract)
            conn.execute("COMMIT")
            return
        except duckdb.TransactionException:
            rollback(conn)  # the failed COMMIT may have ended the transaction already
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 + random.random() * 0.2 * (attempt + 1))
