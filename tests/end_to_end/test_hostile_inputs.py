"""The hostile-input battery: inputs and operations that once crashed a run, lost rows or misstated data.

Grouped by cost: the loader alone on hand-written files (most cases, milliseconds each), the
staging assets and their gate through `dagster.materialize`, then a few whole runs as child
processes (`python -m segmentation_pipeline …`) on one small generated data set.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.staging.landing import newest_landing_date
from segmentation_pipeline.staging.load import load_source
from tests.conftest import AS_OF, ORDER_HEADER, write_landing

ROOT = Path(__file__).resolve().parents[2]
LINE = "{order},{line},{customer},{at},online,p1,1,10.0,0,completed,none,0"


def order_line(order="o1", line=1, customer="c1", at="2025-01-01T10:00:00") -> str:
    return LINE.format(order=order, line=line, customer=customer, at=at)


def orders_csv(*lines: str) -> str:
    return "\n".join([ORDER_HEADER, *lines]) + "\n"


def load_orders(conn, raw_dir, **kwargs):
    return load_source(conn, raw_dir, SOURCES["orders"], AS_OF, **kwargs)


def quarantine(conn, source="orders") -> dict[tuple[str, int | None], tuple[str, str | None]]:
    rows = conn.execute(
        f"SELECT _source_file, _row_number, rule, raw_values FROM quarantine.{source}"
    ).fetchall()
    return {(file, number): (rule, raw) for file, number, rule, raw in rows}


def manifest(conn) -> dict[str, tuple]:
    rows = conn.execute(
        "SELECT file, status, rows_received, rows_loaded, rows_quarantined, error FROM ops.landing_files"
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


def assert_every_row_accounted_for(conn) -> None:
    for file, (_, received, loaded, rejected, _) in manifest(conn).items():
        assert received is None or received == loaded + rejected, file


# -- crashes: one bad value or file never stops the run ---------------------------------------------


@pytest.mark.parametrize("amount", ["1e300", "-1e300", "1e13"])
def test_a_huge_finite_amount_is_quarantined_before_it_reaches_the_models(conn, raw_dir, amount):
    write_landing(
        raw_dir,
        "orders",
        "2025-01-01",
        orders_csv(order_line(), order_line("o2").replace(",10.0,", f",{amount},")),
    )
    load = load_orders(conn, raw_dir)
    assert (load.rows_loaded, load.rows_quarantined) == (1, 1)
    [(rule, _)] = quarantine(conn).values()
    assert "parse:unit_price (not a number between -1e+12 and 1e+12)" in rule


def test_a_file_name_that_is_not_utf8_is_rejected_whole_and_the_rest_loads(conn, raw_dir):
    write_landing(raw_dir, "orders", "2025-01-01", orders_csv(order_line()))
    folder = os.fsencode(raw_dir / "orders")
    with open(folder + b"/orders_2025-01-02\xff.csv", "wb") as handle:
        handle.write(orders_csv(order_line("o2")).encode())
    load = load_orders(conn, raw_dir)
    assert load.rows_loaded == 1
    [(name, outcome)] = [(f, o) for f, o in manifest(conn).items() if "\\xff" in f]
    assert name == "orders/orders_2025-01-02\\xff.csv"
    assert outcome[0] == "rejected" and "file name is not valid UTF-8" in outcome[4]


UNPRIVILEGED_LOAD = """
import datetime as dt, json, sys, duckdb
from pathlib import Path
from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.staging.load import load_source
from segmentation_pipeline.warehouse.tables import ensure_schemas
conn = duckdb.connect(sys.argv[1])
ensure_schemas(conn)
load = load_source(conn, Path(sys.argv[2]), SOURCES["orders"], dt.date(2025, 1, 31))
print(json.dumps([[o.file.relpath, o.status, o.rows_received, o.rows_loaded, o.error] for o in load.outcomes]))
"""


def test_an_unreadable_file_is_rejected_whole_with_its_reason_and_the_others_load(tmp_path, raw_dir):
    write_landing(raw_dir, "orders", "2025-01-01", orders_csv(order_line()))
    locked = write_landing(raw_dir, "orders", "2025-01-02", orders_csv(order_line("o2")))
    locked.chmod(0)
    command = [sys.executable, "-c", UNPRIVILEGED_LOAD, str(tmp_path / "w.duckdb"), str(raw_dir)]
    if os.geteuid() == 0:  # root reads anything: drop the capability that lets it
        command = [
            "capsh",
            "--drop=cap_dac_override,cap_dac_read_search",
            "--",
            "-c",
            " ".join(f"'{c}'" for c in command),
        ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    outcomes = {row[0]: row[1:] for row in json.loads(done.stdout.splitlines()[-1])}
    assert outcomes["orders/orders_2025-01-01.csv"] == ["loaded", 1, 1, None]
    status, received, loaded, error = outcomes["orders/orders_2025-01-02.csv"]
    assert (status, received, loaded) == ("rejected", None, 0) and "Permission denied" in error


def test_a_symlink_in_the_landing_zone_is_refused_never_followed(conn, raw_dir, tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text(orders_csv(order_line("o9")))
    (raw_dir / "orders").mkdir()
    (raw_dir / "orders" / "orders_2025-01-01.csv").symlink_to(outside)
    load = load_orders(conn, raw_dir)
    assert load.rows_loaded == 0
    [(status, _, _, _, error)] = manifest(conn).values()
    assert status == "rejected" and "symbolic link refused" in error
    assert conn.execute("SELECT count(*) FROM staging.orders").fetchall() == [(0,)]


def test_a_symlinked_source_folder_is_refused_file_by_file_not_silently_skipped(conn, raw_dir, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    write_landing(elsewhere, "orders", "2025-01-01", orders_csv(order_line()))
    (raw_dir / "orders").symlink_to(elsewhere / "orders", target_is_directory=True)
    load = load_orders(conn, raw_dir)
    [(status, _, _, _, error)] = manifest(conn).values()
    assert load.rows_loaded == 0 and status == "rejected" and "symbolic link" in error


def test_a_utf8_byte_order_mark_does_not_hide_the_first_column(conn, raw_dir):
    write_landing(raw_dir, "orders", "2025-01-01", b"\xef\xbb\xbf" + orders_csv(order_line()).encode())
    assert load_orders(conn, raw_dir).rows_loaded == 1


# -- silent data loss: every physical line is accounted for ------------------------------------------


def test_an_unclosed_quote_mid_file_loses_no_row(conn, raw_dir):
    lines = [order_line(f"o{n}") for n in range(10)]
    lines[3] = lines[3].replace("c1,", '"c1,')
    write_landing(raw_dir, "orders", "2025-01-01", orders_csv(*lines))
    load = load_orders(conn, raw_dir)
    assert (load.rows_received, load.rows_loaded, load.rows_quarantined) == (10, 9, 1)
    [((_, number), (rule, _))] = quarantine(conn).items()
    assert number == 4 and "unclosed quote" in rule


def test_a_quoted_value_on_two_lines_is_one_row(conn, raw_dir):
    header = "response_id,submitted_at,comment"
    write_landing(
        raw_dir,
        "surveys",
        "2025-01-01",
        f'{header}\nr1,2025-01-01T10:00:00,"good\nvery good"\nr2,2025-01-01T11:00:00,ok\n',
    )
    load = load_source(conn, raw_dir, SOURCES["surveys"], AS_OF)
    assert (load.rows_received, load.rows_loaded) == (2, 2)
    assert conn.execute("SELECT comment FROM staging.surveys ORDER BY 1").fetchall() == [
        ("good\nvery good",),
        ("ok",),
    ]


def test_a_duplicate_corrected_by_relanding_the_first_file_loads(conn, raw_dir):
    first = write_landing(raw_dir, "orders", "2025-01-01", orders_csv(order_line("o1"), order_line("o2")))
    write_landing(raw_dir, "orders", "2025-01-02", orders_csv(order_line("o2", at="2025-01-02T09:00:00")))
    load_orders(conn, raw_dir)
    assert len(quarantine(conn)) == 1  # o2 of the 2nd file is a duplicate of the 1st file's
    first.write_text(orders_csv(order_line("o1")))  # the first file carried o2 by mistake
    again = load_orders(conn, raw_dir)
    assert sorted(o.file.relpath for o in again.outcomes) == [
        "orders/orders_2025-01-01.csv",
        "orders/orders_2025-01-02.csv",
    ]
    assert quarantine(conn) == {}
    assert conn.execute("SELECT order_id, ordered_at FROM staging.orders ORDER BY 1").fetchall() == [
        ("o1", dt.datetime(2025, 1, 1, 10)),
        ("o2", dt.datetime(2025, 1, 2, 9)),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2025-01-01T10:30", dt.datetime(2025, 1, 1, 10, 30)), ("2025-01-01 10:30", dt.datetime(2025, 1, 1, 10, 30)),
     ("2025-01-01T10:30:15", dt.datetime(2025, 1, 1, 10, 30, 15)), ("2025-01-01T10:30:15.250", dt.datetime(2025, 1, 1, 10, 30, 15, 250000)),
     ("2025-01-01T10:30Z", dt.datetime(2025, 1, 1, 10, 30)), ("2025-01-01T12:30+02:00", dt.datetime(2025, 1, 1, 10, 30)),
     ("2025-01-01T12:30:00+0200", dt.datetime(2025, 1, 1, 10, 30)), ("2025-01-01 05:30:00.5-05", dt.datetime(2025, 1, 1, 10, 30, 0, 500000)),
     ("2025-01-01t10:30:00z", dt.datetime(2025, 1, 1, 10, 30)), ("2025-01-01", dt.datetime(2025, 1, 1))],
)  # fmt: skip
def test_iso_8601_in_its_common_forms(conn, raw_dir, text, expected):
    write_landing(raw_dir, "orders", "2025-01-01", orders_csv(order_line(at=text)))
    assert load_orders(conn, raw_dir).rows_loaded == 1
    assert conn.execute("SELECT ordered_at FROM staging.orders").fetchall() == [(expected,)]


@pytest.mark.parametrize("content", [b"", (ORDER_HEADER + "\n").encode()])
def test_a_file_relanded_empty_keeps_its_rows_and_is_held(conn, raw_dir, content):
    path = write_landing(raw_dir, "orders", "2025-01-01", orders_csv(order_line("o1"), order_line("o2")))
    load_orders(conn, raw_dir)
    path.write_bytes(content)
    load = load_orders(conn, raw_dir)
    assert load.outcomes == [] and conn.execute("SELECT count(*) FROM staging.orders").fetchall() == [(2,)]
    [(file, _, reason)] = load.suspicious
    assert file.relpath == "orders/orders_2025-01-01.csv" and "after 2 rows were loaded from it" in reason
    assert any("re-landed" in w and "its rows are kept" in w for w in load.warnings)


def test_a_file_still_being_written_waits_for_the_next_run(conn, raw_dir):
    path = write_landing(raw_dir, "orders", "2025-01-01", orders_csv(order_line()))
    load = load_orders(conn, raw_dir, settle_seconds=60)
    assert (load.files_waiting, load.rows_loaded, manifest(conn)) == (1, 0, {})
    assert "perhaps still being written" in load.warnings[0]
    an_hour_ago = path.stat().st_mtime_ns - 3600 * 10**9
    os.utime(path, ns=(an_hour_ago, an_hour_ago))
    assert load_orders(conn, raw_dir, settle_seconds=60).rows_loaded == 1


def test_a_corrected_file_with_the_same_size_and_mtime_is_reloaded(conn, raw_dir):
    path = write_landing(raw_dir, "orders", "2025-01-01", orders_csv(order_line(customer="c1")))
    load_orders(conn, raw_dir)
    stat = path.stat()
    path.write_text(orders_csv(order_line(customer="c2")))  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and same mtime (cp -p, rsync -t)
    again = load_orders(conn, raw_dir)
    assert len(again.outcomes) == 1
    assert conn.execute("SELECT customer_id FROM staging.orders").fetchall() == [("c2",)]


# -- wrong data ---------------------------------------------------------------------------------------


def test_an_order_whose_lines_disagree_on_the_customer_is_quarantined_whole(conn, raw_dir):
    lines = [order_line("o1", 1, "c1"), order_line("o1", 2, "c2"), order_line("o2", 1, "c1")]
    write_landing(raw_dir, "orders", "2025-01-01", orders_csv(*lines))
    load = load_orders(conn, raw_dir)
    assert (load.rows_loaded, load.rows_quarantined) == (1, 2)
    rules = {number: rule for (_, number), (rule, _) in quarantine(conn).items()}
    assert set(rules) == {1, 2}
    assert all("order_id lines disagree on customer_id (c1, c2)" in rule for rule in rules.values())


def test_ids_are_trimmed(conn, raw_dir):
    write_landing(
        raw_dir, "orders", "2025-01-01", orders_csv(order_line("o1", 1, " c1 "), order_line(" o2", 1, "c1\t"))
    )
    load_orders(conn, raw_dir)
    assert conn.execute("SELECT DISTINCT customer_id FROM staging.orders").fetchall() == [("c1",)]
    assert conn.execute("SELECT order_id FROM staging.orders ORDER BY 1").fetchall() == [("o1",), ("o2",)]


def test_within_one_customers_file_the_newest_version_wins(conn, raw_dir):
    header = "customer_id,country,updated_at"
    write_landing(
        raw_dir,
        "customers",
        "2025-01-01",
        f"{header}\nc1,BE,2025-01-01T10:00:00\nc1,FR,2024-12-01T00:00:00\n",
    )
    load = load_source(conn, raw_dir, SOURCES["customers"], AS_OF)
    assert (load.rows_loaded, load.rows_quarantined) == (1, 1)
    assert conn.execute("SELECT country FROM staging.customers").fetchall() == [("BE",)]
    [(rule, _)] = quarantine(conn, "customers").values()
    assert "a newer version is in customers/customers_2025-01-01.csv row 1" in rule


def test_a_file_dated_in_the_future_waits_with_a_warning_and_does_not_move_the_analysis_date(conn, raw_dir):
    today = dt.date.today()
    write_landing(raw_dir, "orders", today.isoformat(), orders_csv(order_line(at=f"{today}T08:00:00")))
    write_landing(raw_dir, "orders", "2099-01-01", orders_csv(order_line("o2", at="2099-01-01T08:00:00")))
    assert newest_landing_date(raw_dir) == today
    load = load_source(conn, raw_dir, SOURCES["orders"], newest_landing_date(raw_dir))
    assert (load.files_deferred, load.rows_loaded) == (1, 1)
    assert any("orders_2099-01-01.csv: dated 2099-01-01, after tomorrow" in w for w in load.warnings)


# -- personal data and clear errors ------------------------------------------------------------------


def test_a_header_less_customers_file_never_echoes_its_first_row(conn, raw_dir):
    write_landing(raw_dir, "customers", "2025-01-01", "c1,jane.doe@example.com,Jane Doe,1980,female\n"
                  "c2,john@example.com,John Roe,1975,male\n")  # fmt: skip
    load = load_source(conn, raw_dir, SOURCES["customers"], AS_OF)
    text = json.dumps([load.warnings, [o.error for o in load.outcomes], list(load.reasons)])
    assert "jane" not in text.lower() and "Doe" not in text
    assert "is the header row missing?" in load.outcomes[0].error


@pytest.mark.parametrize(
    ("header", "hint"),
    [(ORDER_HEADER.replace(",", ";"), "delimited by ';'"), (ORDER_HEADER.upper(), "found ORDER_ID")],
)
def test_csv_dialect_mistakes_get_a_hint(conn, raw_dir, header, hint):
    write_landing(raw_dir, "orders", "2025-01-01", f"{header}\n{order_line()}\n")
    load = load_orders(conn, raw_dir)
    assert hint in load.outcomes[0].error


def test_bad_rows_of_an_erased_customer_keep_no_values(conn, raw_dir):
    conn.execute(
        "CREATE TABLE IF NOT EXISTS ops.erased_customers (customer_id VARCHAR PRIMARY KEY, erased_at TIMESTAMP)"
    )
    conn.execute("INSERT INTO ops.erased_customers VALUES ('c9', now())")
    bad = order_line("o2", customer="c9").replace(",1,10.0,", ",abc,10.0,")  # bad row of the erased customer
    ragged = order_line("o3", customer="c9") + ",surplus"
    write_landing(
        raw_dir,
        "orders",
        "2025-01-01",
        orders_csv(order_line(), bad, ragged, order_line("o4", customer="c9")),
    )
    load = load_orders(conn, raw_dir)
    assert load.rows_loaded == 1 and load.rows_erased == 3
    for (_, number), (rule, raw) in quarantine(conn).items():
        assert "customer erased" in rule and raw is None, number
    assert_every_row_accounted_for(conn)


def test_the_whole_battery_keeps_rows_received_equal_to_loaded_plus_quarantined(conn, raw_dir):
    lines = [order_line(f"o{n}") for n in range(6)]
    lines[1] = lines[1].replace("c1,", '"c1,')
    lines[2] = lines[2].replace(",10.0,", ",1e300,")
    lines[3] = lines[3] + ",surplus"
    write_landing(
        raw_dir, "orders", "2025-01-01", orders_csv(*lines, "", order_line("o7", at="2025-01-01 10:30"))
    )
    load = load_orders(conn, raw_dir)
    assert (load.rows_received, load.rows_loaded, load.rows_quarantined) == (7, 4, 3)
    assert_every_row_accounted_for(conn)
    assert (
        pl.DataFrame(conn.execute("SELECT order_id FROM staging.orders").fetchall(), orient="row").height == 4
    )


# -- gates that hold until a person acts -------------------------------------------------------------


def staging_run(data_dir: Path, **settings) -> tuple[bool, str]:
    import dagster as dg
    from dagster_duckdb import DuckDBResource

    from segmentation_pipeline.defs.quality import data_quality
    from segmentation_pipeline.defs.resources import PipelineSettings
    from segmentation_pipeline.defs.staging import staging_assets
    from segmentation_pipeline.settings import Settings

    resources = {
        "settings": PipelineSettings.from_settings(
            Settings(data_dir=data_dir, as_of="2025-01-31", settle_seconds=0, **settings)
        ),
        "warehouse": DuckDBResource(database=str(data_dir / "warehouse.duckdb")),
    }
    result = dg.materialize([*staging_assets, data_quality], resources=resources, raise_on_error=False)
    [check] = [e for e in result.get_asset_check_evaluations() if e.asset_key.path == ["staging", "orders"]]
    return check.passed, check.description


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return run(data_dir, *args, timeout=120)


def test_a_failed_gate_holds_on_later_runs_until_the_file_is_accepted(tmp_path):
    bad = [order_line(f"o{n}").replace(",1,10.0,", ",0,10.0,") for n in range(3)]
    write_landing(tmp_path / "raw", "orders", "2025-01-01", orders_csv(order_line("g1"), *bad))
    passed, _ = staging_run(tmp_path)
    assert not passed
    passed, description = staging_run(tmp_path)  # nothing new: the gate still holds
    assert not passed
    assert "HELD until re-landed or accepted: orders/orders_2025-01-01.csv (3/4 rows rejected" in description
    assert "python -m segmentation_pipeline accept orders FILE" in description
    assert cli(tmp_path, "accept", "orders", "orders_2025-01-09.csv").returncode == 1  # no such hold
    done = cli(tmp_path, "accept", "orders", "orders_2025-01-01.csv", "--by", "jane (data engineer)")
    assert done.returncode == 0, done.stderr
    assert staging_run(tmp_path)[0]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        row = conn.execute(
            "SELECT gate, accepted_by, accepted_at IS NOT NULL, rows_quarantined FROM marts.data_quality"
        ).fetchall()
    assert row == [("accepted", "jane (data engineer)", True, 3)]  # still counted and reported


def test_relanding_a_held_file_releases_it_when_the_new_content_is_good(tmp_path):
    bad = orders_csv(order_line("o1"), order_line("o2").replace(",1,10.0,", ",0,10.0,"))
    path = write_landing(tmp_path / "raw", "orders", "2025-01-01", bad)
    assert not staging_run(tmp_path)[0]
    path.write_text(orders_csv(order_line("o1"), order_line("o2")))
    assert staging_run(tmp_path)[0]


def test_an_empty_relanding_holds_the_gate_and_is_wiped_only_once_accepted(tmp_path):
    path = write_landing(tmp_path / "raw", "orders", "2025-01-01", orders_csv(order_line("o1")))
    assert staging_run(tmp_path)[0]
    path.write_bytes(b"")
    passed, description = staging_run(tmp_path)
    assert not passed and "re-landed empty (0 bytes)" in description
    assert cli(tmp_path, "accept", "orders", "orders/orders_2025-01-01.csv").returncode == 0
    assert staging_run(tmp_path)[0]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM staging.orders").fetchall() == [(0,)]


def test_expected_rejections_are_counted_with_their_revenue_but_do_not_fail_the_gate(tmp_path):
    guests = [order_line(f"g{n}", customer="") for n in range(3)]  # guest checkouts: no customer id
    write_landing(tmp_path / "raw", "orders", "2025-01-01", orders_csv(order_line("o1"), *guests))
    assert not staging_run(tmp_path)[0]
    shutil.rmtree(tmp_path / "raw")
    (tmp_path / "warehouse.duckdb").unlink()
    write_landing(tmp_path / "raw", "orders", "2025-01-01", orders_csv(order_line("o1"), *guests))
    passed, description = staging_run(tmp_path, expected_rejections="orders:missing:customer_id")
    assert passed, description
    assert "0 of 4 rows rejected this run" in description and "3 more expected" in description
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        row = conn.execute(
            "SELECT rows_quarantined, rows_expected, quarantined_revenue FROM marts.data_quality"
        ).fetchall()
    assert row == [(3, 3, 30.0)]


# -- clear errors, fast ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [("SEGMENTATION_REJECT_THRESHOLD", "abc", "SEGMENTATION_REJECT_THRESHOLD='abc' is not a valid value: expected a number between 0 and 1"),
     ("SEGMENTATION_HOLDOUT_DAYS", "9.5", "SEGMENTATION_HOLDOUT_DAYS='9.5' is not a valid value: expected a whole number"),
     ("SEGMENTATION_RFM_MONETARY", "profit", "expected one of margin, revenue"),
     ("SEGMENTATION_AS_OF", "2026-13-01", "SEGMENTATION_AS_OF='2026-13-01' is not a YYYY-MM-DD date"),
     ("SEGMENTATION_AS_OF", "2099-01-01", "is in the future"),
     ("SEGMENTATION_DUCKDB_MEMORY_LIMIT", "lots", "expected a size such as 1500MB"),
     ("SEGMENTATION_EXPECTED_REJECTIONS", "invoices:missing:customer_id", "is not SOURCE:RULE"),
     ("SEGMENTATION_CURRENCY", "euro", "ISO 4217")],
)  # fmt: skip
def test_settings_are_checked_before_any_step_naming_the_variable(monkeypatch, variable, value, message):
    from segmentation_pipeline.settings import Settings, SettingsError

    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=None) as error:
        Settings.from_env()
    assert message in str(error.value)


def test_a_bad_setting_stops_the_run_command_at_once_without_touching_the_data_dir(tmp_path):
    done = run(tmp_path / "data", timeout=120, SEGMENTATION_REJECT_THRESHOLD="abc")
    assert done.returncode == 2
    assert "SEGMENTATION_REJECT_THRESHOLD='abc'" in done.stderr
    assert not (tmp_path / "data").exists()


# -- never generate into a warehouse's landing zone ---------------------------------------------------


def test_an_empty_landing_zone_beside_a_warehouse_is_an_error_not_a_reason_to_generate(tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "raw" / "orders").mkdir(parents=True)
    duckdb.connect(str(data_dir / "warehouse.duckdb")).close()
    done = run(data_dir, timeout=120)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "holds no file" in done.stderr and "warehouse.duckdb exists" in done.stderr
    assert list((data_dir / "raw").rglob("*.*")) == []


# -- whole runs: console, one analysis date, backfills, a held warehouse, erasure ----------------------

END = dt.date(2026, 6, 30)


def run(
    data_dir: Path, *args: str, as_of: str = "", home: Path | None = None, timeout: int = 300, **variables
):
    """`python -m segmentation_pipeline ARGS` (default `run`) as a child process over `data_dir`."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(SEGMENTATION_DATA_DIR=str(data_dir), SEGMENTATION_AS_OF=as_of, SEGMENTATION_SETTLE_SECONDS="0")
    env.update(variables)
    if home:
        env["DAGSTER_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "segmentation_pipeline", *(args or ("run",))], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


def published(data_dir: Path, name: str = "marts.duckdb") -> tuple:
    with duckdb.connect(str(data_dir / name), read_only=True) as conn:
        return conn.execute(
            "SELECT (SELECT max(as_of_date) FROM customer_profile), (SELECT count(*) FROM customer_profile), "
            "(SELECT sum(customers) FROM segments)"
        ).fetchall()[0]


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    from segmentation_pipeline.synth import generate_landing_zone

    root = tmp_path_factory.mktemp("runs")
    data_dir, home = root / "data", root / "dagster_home"
    generate_landing_zone(data_dir, customers=300, days=120, seed=5, end_date=END)
    # A file dated far in the future must neither load nor move the analysis date.
    write_landing(
        data_dir / "raw", "orders", "2099-01-01", orders_csv(order_line("future", at="2099-01-01T10:00:00"))
    )
    done = run(data_dir, home=home)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return data_dir, home, done.stdout


@pytest.fixture
def data_dir(base_run, tmp_path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(base_run[0], copy, symlinks=True)
    return copy


def test_the_console_shows_one_line_per_step_and_ends_with_where_to_look(base_run):
    data_dir, home, output = base_run
    lines = output.splitlines()
    steps = [line for line in lines if line.startswith("[")]
    assert len(steps) >= 15 and steps[-1].startswith(f"[{len(steps)}/{len(steps)}]")
    assert "DEBUG" not in output and len(lines) < len(steps) + 15
    assert "orders/orders_2099-01-01.csv: dated 2099-01-01, after tomorrow" in output  # the warning, shown
    assert "succeeded in" in output and f"(analysis date {END})" in output
    assert f"BI snapshot: {data_dir / 'marts.duckdb'}" in output
    assert f"report:      {data_dir / 'reports' / f'persona_report_{END}.html'}" in output
    assert "warehouse.duckdb" not in output
    [log] = (data_dir / "logs").glob("run_*.log")
    assert "STEP_START" in log.read_text()
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        # What the UI's job page asks for: runs of the job, labelled with its repository and location.
        label = {".dagster/repository": "__repository__@segmentation_pipeline.definitions"}
        [record] = instance.get_run_records(dg.RunsFilter(job_name="daily_segmentation", tags=label))
    assert record.dagster_run.job_name == "daily_segmentation"
    assert record.dagster_run.tags["segmentation/analysis_date"] == END.isoformat()
    assert record.dagster_run.tags["segmentation/data_dir"] == str(data_dir.resolve())


def test_a_backfill_keeps_later_history_and_never_replaces_the_newer_snapshot(data_dir):
    def later_history() -> int:
        with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as conn:
            return conn.execute(
                "SELECT count(*) FROM marts.segment_history WHERE as_of_date = ?", [END]
            ).fetchall()[0][0]

    before, live = later_history(), published(data_dir)
    assert before > 0 and live[0] == END
    past = END - dt.timedelta(days=30)
    done = run(data_dir, as_of=past.isoformat())
    assert done.returncode == 0, done.stdout[-3000:]
    assert later_history() == before
    assert published(data_dir) == live  # the live BI snapshot still shows the later date
    assert published(data_dir, f"marts_{past}.duckdb")[0] == past  # the backfill, beside it, dated
    assert (data_dir / f"marts_{past}" / "customer_profile.parquet").exists()
    assert f"marts_{past}.duckdb" in done.stdout


HOLDER = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); print('ready', flush=True); time.sleep(120)"


def test_a_program_holding_the_warehouse_fails_the_run_in_seconds_naming_it(data_dir):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir / "warehouse.duckdb")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        started = dt.datetime.now()
        done = run(data_dir, timeout=120)
        seconds = (dt.datetime.now() - started).total_seconds()
    finally:
        holder.kill()
    assert done.returncode != 0
    assert f"held by process {holder.pid}" in done.stdout and "Close that program" in done.stdout
    assert seconds < 60  # start-up included; Dagster's own retries took about ten minutes


def test_erasure_erases_everywhere_keeps_aggregates_consistent_and_reports_unknown_ids(data_dir):
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as conn:
        [(customer,)] = conn.execute(
            "SELECT customer_id FROM marts.customer_profile WHERE frequency > 0 ORDER BY 1 LIMIT 1"
        ).fetchall()
    stray = data_dir / ".marts.duckdb.killedrun.tmp"  # left by a publication killed mid-way
    shutil.copy(data_dir / "marts.duckdb", stray)
    unknown = run(data_dir, "erase", "no-such-customer")
    assert (
        unknown.returncode == 1
        and "unknown customer id(s), found nowhere, not recorded: no-such-customer" in unknown.stderr
    )
    done = run(data_dir, "erase", customer)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert not stray.exists()
    as_of, customers, in_segments = published(data_dir)
    assert customers == in_segments  # segments no longer count the erased customer
    with duckdb.connect(str(data_dir / "marts.duckdb"), read_only=True) as conn:
        assert conn.execute(
            "SELECT count(*) FROM customer_profile WHERE customer_id = ?", [customer]
        ).fetchall() == [(0,)]
        assert conn.execute("SELECT sum(customers) FROM rfm_segments").fetchall()[0][0] == customers


def test_schedule_and_sensor_resolve_the_analysis_date_once_and_tag_the_run(tmp_path):
    import dagster as dg

    from segmentation_pipeline.definitions import build_definitions
    from segmentation_pipeline.settings import Settings

    write_landing(tmp_path / "raw", "orders", "2025-01-01", orders_csv(order_line()))
    future = write_landing(tmp_path / "raw", "orders", "2099-01-01", orders_csv(order_line("o9")))
    definitions = build_definitions(Settings(data_dir=tmp_path, settle_seconds=60))
    schedule = definitions.get_schedule_def("daily_segmentation_schedule")
    with dg.build_schedule_context(scheduled_execution_time=dt.datetime(2025, 1, 2, 6)) as context:
        [request] = schedule.evaluate_tick(context).run_requests
    assert request.tags["segmentation/analysis_date"] == "2025-01-01"  # not 2099
    sensor = definitions.get_sensor_def("landing_file_sensor")
    with dg.build_sensor_context() as context:
        assert isinstance(sensor(context), dg.SkipReason)  # both files still settling
    an_hour_ago = future.stat().st_mtime_ns - 3600 * 10**9
    for path in (tmp_path / "raw" / "orders").iterdir():
        os.utime(path, ns=(an_hour_ago, an_hour_ago))
    with dg.build_sensor_context() as context:
        request = sensor(context)
    assert request.tags["segmentation/analysis_date"] == "2025-01-01"


def test_no_customer_id_or_personal_value_reaches_dagster_event_storage(base_run):
    import dagster as dg

    data_dir, home, _ = base_run
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as conn:
        ids = {row[0] for row in conn.execute("SELECT customer_id FROM staging.customers").fetchall()}
        emails = {
            row[0]
            for row in conn.execute("SELECT email FROM staging.customers WHERE email IS NOT NULL").fetchall()
        }
    with dg.DagsterInstance.from_config(str(home)) as instance:
        [record] = instance.get_run_records()
        events = json.dumps(
            [str(e.dagster_event) + e.user_message for e in instance.all_logs(record.dagster_run.run_id)]
        )
    assert not [c for c in ids if f"| {c} |" in events or f'"{c}"' in events]
    assert not [e for e in emails if e in events]
