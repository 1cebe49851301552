"""Apache Superset 6.1 reads the published marts for real: `make bi`'s set-up, a server on 127.0.0.1,
SQL Lab through the REST API, and a pipeline run while Superset keeps querying.

The BI environment (.venv-bi) is made by `make bi-venv` if missing (about a minute, once); the
Superset state lives in a temporary SUPERSET_HOME, so the test neither needs nor touches `make bi`'s.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
import requests

from segmentation_pipeline.synth import generate_landing_zone
from tests.services import free_port, stop, wait_for_http

pytestmark = pytest.mark.bi  # and slow, as every end-to-end test (conftest.py)

ROOT = Path(__file__).resolve().parents[2]
BI_PYTHON = ROOT / ".venv-bi" / "bin" / "python"
END = dt.date(2026, 6, 30)
PREVIOUS_DAY = END - dt.timedelta(days=1)
DATABASE_NAME = "Segment marts (read-only snapshot)"

# The figures an analyst reads off the dashboard, as SQL over the marts; each one must come back
# from Superset exactly as the warehouse has it. Dates as text: JSON has no date type.
FIGURES = {
    "customers": "SELECT count(*), count(DISTINCT segment_id), sum(clv_12m), max(as_of_date)::VARCHAR FROM customer_profile",
    "segment sizes and value": """SELECT segment_id, persona_name, customers, customer_share, revenue_share, avg_clv_12m,
                                  roi, service_priority FROM segments ORDER BY segment_id""",
    "RFM grid": "SELECT r_score, f_score, count(*) FROM customer_profile GROUP BY ALL ORDER BY ALL",
    "RFM segments": "SELECT rfm_segment, customers, revenue, margin, share FROM rfm_segments ORDER BY rfm_segment",
    "CLV tiers": "SELECT clv_tier, count(*), sum(clv_12m) FROM customer_profile GROUP BY ALL ORDER BY ALL",
    "migrations": """SELECT as_of_date::VARCHAR, from_segment, to_segment, customers, revenue FROM segment_migrations
                     ORDER BY ALL""",
}  # fmt: skip
# One publication or the other, never a mix: every customer counted once in the segments.
CONSISTENCY = """SELECT (SELECT max(as_of_date)::VARCHAR FROM customer_profile) AS as_of,
                        (SELECT count(*) FROM customer_profile) AS customers,
                        (SELECT sum(customers) FROM segments) AS in_segments,
                        (SELECT count(DISTINCT as_of_date) FROM customer_profile) AS dates"""


def run_pipeline(data_dir: Path, as_of: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    # The files were written a moment ago by the generator, complete: no settling time to wait.
    env.update(SEGMENTATION_DATA_DIR=str(data_dir), SEGMENTATION_AS_OF=as_of, SEGMENTATION_SETTLE_SECONDS="0")
    out = subprocess.run(
        [sys.executable, "-m", "segmentation_pipeline", "run"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]


class Superset:
    """A logged-in REST client of the server under test."""

    def __init__(self, base: str, password: str):
        self.base = base
        self.http = requests.Session()
        token = self.http.post(
            f"{base}/api/v1/security/login",
            json={"username": "admin", "password": password, "provider": "db", "refresh": True},
            timeout=60,
        )
        token.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        csrf = self.http.get(f"{base}/api/v1/security/csrf_token/", timeout=60)
        csrf.raise_for_status()
        self.http.headers.update({"X-CSRFToken": csrf.json()["result"], "Referer": base})
        databases = self.get("/api/v1/database/")["result"]
        [self.database_id] = [d["id"] for d in databases if d["database_name"] == DATABASE_NAME]

    def get(self, path: str) -> dict:
        response = self.http.get(f"{self.base}{path}", timeout=60)
        response.raise_for_status()
        return response.json()

    def sql(self, sql: str) -> list[list]:
        """Rows of `sql` run by SQL Lab on the snapshot database, in column order."""
        response = self.http.post(
            f"{self.base}/api/v1/sqllab/execute/",
            json={
                "database_id": self.database_id,
                "sql": sql,
                "runAsync": False,
                "schema": "main",
                "client_id": secrets.token_hex(5),
                "queryLimit": 100_000,
            },  # fmt: skip
            timeout=120,
        )
        assert response.status_code == 200, response.text[:2000]
        body = response.json()
        assert body["status"] == "success", body
        names = [c["column_name"] for c in body["columns"]]
        return [[row[name] for name in names] for row in body["data"]]


@pytest.fixture(scope="module")
def superset(tmp_path_factory):
    if not BI_PYTHON.exists():
        subprocess.run(["make", "bi-venv"], cwd=ROOT, check=True)
    data_dir = tmp_path_factory.mktemp("superset") / "data"
    generate_landing_zone(data_dir, customers=800, days=200, seed=11, end_date=END)
    run_pipeline(data_dir, PREVIOUS_DAY.isoformat())

    home = tmp_path_factory.mktemp("superset_home")
    password = secrets.token_urlsafe(12)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERSET_")}
    env.update(
        SUPERSET_HOME=str(home),
        SUPERSET_CONFIG_PATH=str(ROOT / "bi" / "superset" / "superset_config.py"),
        SUPERSET_ADMIN_PASSWORD=password,
    )
    started = time.monotonic()
    setup = subprocess.run(
        [str(BI_PYTHON), str(ROOT / "bi" / "superset" / "setup_superset.py"), "--snapshot", str(data_dir / "marts.duckdb")],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    print(f"superset set-up: {time.monotonic() - started:.1f} s")

    port = free_port()
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [str(BI_PYTHON.with_name("superset")), "run", "-h", "127.0.0.1", "-p", str(port), "--with-threads"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/health", server, "Superset server", seconds=180, log=home / "server.log")
        print(f"superset set-up and start: {time.monotonic() - started:.1f} s")
        yield data_dir, Superset(base, password)
    finally:
        stop(server, seconds=30)
        log.close()


def warehouse_rows(data_dir: Path, sql: str) -> list[list]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as conn:
        conn.execute("USE marts")
        return [list(row) for row in conn.execute(sql).fetchall()]


def same_figures(left: list[list], right: list[list]) -> bool:
    """Equal row by row; floats to 1e-9 relative (a parallel sum may differ in its last bits)."""
    return len(left) == len(right) and all(
        len(a) == len(b) and all(x == pytest.approx(y, rel=1e-9) if isinstance(y, float) else x == y
                                 for x, y in zip(a, b, strict=True))
        for a, b in zip(left, right, strict=True)
    )  # fmt: skip


def test_superset_shows_the_warehouse_figures(superset):
    data_dir, client = superset
    for name, sql in FIGURES.items():
        through_superset, in_warehouse = client.sql(sql), warehouse_rows(data_dir, sql)
        assert in_warehouse, name
        assert same_figures(through_superset, in_warehouse), (name, through_superset[:5], in_warehouse[:5])
    assert client.sql("SELECT max(as_of_date)::VARCHAR FROM customer_profile") == [[str(PREVIOUS_DAY)]]


def test_the_dashboard_and_its_datasets_stand_on_columns_the_snapshot_has(superset):
    _, client = superset
    dashboard = client.get("/api/v1/dashboard/customer-segments")["result"]
    charts = {c["slice_name"] for c in client.get(f"/api/v1/dashboard/{dashboard['id']}/charts")["result"]}
    assert {"Segment sizes", "Segment value and service priority", "RFM grid: customers by R score (across) and F score (up)",
            "CLV tiers: share of the 12-month CLV", "Segment migrations of the latest run"} <= charts  # fmt: skip
    datasets = client.get("/api/v1/dataset/?q=(page_size:100)")["result"]
    assert len(datasets) >= 4
    for summary in datasets:
        dataset = client.get(f"/api/v1/dataset/{summary['id']}")["result"]
        columns = ", ".join(f'"{c["column_name"]}"' for c in dataset["columns"])
        metrics = ", ".join(m["expression"] for m in dataset["metrics"])
        source = f"({dataset['sql']})" if dataset["sql"] else dataset["table_name"]
        # Each declared column and metric evaluates on the snapshot, through Superset.
        assert client.sql(f"SELECT {columns} FROM {source}"), dataset["table_name"]
        assert len(client.sql(f"SELECT {metrics} FROM {source}")) == 1, dataset["table_name"]


def test_superset_is_read_only_on_the_snapshot(superset):
    data_dir, client = superset
    database = client.get(f"/api/v1/database/{client.database_id}/connection")["result"]
    assert database["sqlalchemy_uri"] == f"duckdb:///{(data_dir / 'marts.duckdb').resolve()}"
    assert json.loads(database["extra"])["engine_params"]["connect_args"] == {"read_only": True}
    response = client.http.post(
        f"{client.base}/api/v1/sqllab/execute/",
        json={
            "database_id": client.database_id,
            "sql": "DELETE FROM segments",
            "runAsync": False,
            "client_id": secrets.token_hex(5),
        },  # fmt: skip
        timeout=60,
    )
    assert response.status_code != 200 or response.json().get("status") != "success"
    with duckdb.connect(str(data_dir / "marts.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM segments").fetchall()[0][0] > 0


def test_superset_keeps_answering_through_a_run_and_sees_one_complete_publication(superset):
    data_dir, client = superset
    seen, errors, stop = [], [], threading.Event()

    def query_in_a_loop() -> None:
        while not stop.is_set():
            try:
                seen.append(client.sql(CONSISTENCY)[0])
            except Exception as error:  # every failure counts against the test
                errors.append(repr(error))
            time.sleep(0.05)

    reader = threading.Thread(target=query_in_a_loop)
    reader.start()
    try:
        run_pipeline(data_dir, END.isoformat())  # the next day's run publishes a new snapshot
        time.sleep(1)  # a few queries on the new publication
    finally:
        stop.set()
        reader.join(timeout=120)
    assert errors == []
    assert len(seen) > 10
    for as_of, customers, in_segments, dates in seen:
        assert as_of in (str(PREVIOUS_DAY), str(END))
        assert customers == in_segments and dates == 1
    assert seen[-1][0] == str(END)  # Superset reads the new marts without a restart
    for sql in FIGURES.values():
        assert same_figures(client.sql(sql), warehouse_rows(data_dir, sql))
