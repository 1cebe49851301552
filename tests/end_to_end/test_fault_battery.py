"""Every kind of bad input the generator injects ends in quarantine with the right rule, and nothing else does.

Runs the real loader over a generated landing zone with `--faults`: each fault row must be
quarantined with a rule naming what is wrong, every row that is not a fault must load (no good
row lost), rows received = loaded + quarantined for every readable file, and re-landing the
corrected file replaces exactly its rows.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import duckdb
import pytest

from segmentation_pipeline.contracts import SOURCES
from segmentation_pipeline.staging.load import load_source
from segmentation_pipeline.synth import generate_landing_zone
from segmentation_pipeline.warehouse.tables import ensure_schemas

END = dt.date(2026, 6, 30)


def expected_rule(fault: dict) -> str:
    column = fault["column"]
    return {
        "missing_required": f"missing:{column}",
        "bad_enum": f"{column}: isin",
        "out_of_range": f"{column}: ",
        "unparseable": f"parse:{column}",
        "discount_exceeds_total": "discount <= quantity x unit_price",
        "future_timestamp": f"{column} not after landing date + 1 day",
        "bad_country": "country: str_matches",
        "bad_email": "email: str_matches",
        "duplicate_in_file": "duplicate key",
        "duplicate_across_files": "duplicate key",
        "truncated_file": "truncated file",
    }[fault["kind"]]


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("faults")
    generate_landing_zone(data_dir, customers=400, days=60, seed=3, end_date=END, faults=True)
    faults = [json.loads(line) for line in (data_dir / "truth" / "faults.jsonl").read_text().splitlines()]
    conn = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    ensure_schemas(conn)
    loads = {name: load_source(conn, data_dir / "raw", contract, END) for name, contract in SOURCES.items()}
    yield data_dir, faults, conn, loads
    conn.close()


def quarantined(conn, source: str) -> dict[tuple[str, int | None], str]:
    rows = conn.execute(f"SELECT _source_file, _row_number, rule FROM quarantine.{source}").fetchall()
    return {(file, number): rule for file, number, rule in rows}


def test_every_fault_kind_is_injected(faulty):
    _, faults, _, _ = faulty
    kinds = {f["kind"] for f in faults}
    assert kinds >= {
        "missing_required", "bad_enum", "out_of_range", "unparseable", "discount_exceeds_total",
        "future_timestamp", "bad_country", "bad_email", "duplicate_in_file", "duplicate_across_files",
        "truncated_file", "not_utf8", "missing_required_column", "empty_file", "corrupt_parquet",
        "corrupt_jsonl", "extra_column", "relanded_corrected",
    }  # fmt: skip


def test_each_bad_row_is_quarantined_with_its_rule(faulty):
    _, faults, conn, _ = faulty
    for fault in faults:
        if fault["row_number"] is None or fault["kind"] == "relanded_corrected":
            continue
        rules = quarantined(conn, fault["source"])
        key = (fault["file"], fault["row_number"])
        assert key in rules, f"fault not quarantined: {fault}"
        assert expected_rule(fault) in rules[key], f"{fault} → {rules[key]}"


def test_whole_file_faults(faulty):
    _, faults, conn, loads = faulty
    status = {
        file: (state, received, loaded, rejected, error)
        for file, state, received, loaded, rejected, error in conn.execute(
            "SELECT file, status, rows_received, rows_loaded, rows_quarantined, error FROM ops.landing_files"
        ).fetchall()
    }
    for fault in faults:
        file, kind = fault["file"], fault["kind"]
        state, received, loaded, rejected, error = status[file]
        if kind == "empty_file":
            assert (state, received) == ("empty", 0)
        elif kind == "corrupt_parquet":
            assert state == "rejected" and received is None and "unreadable Parquet" in error
        elif kind in ("not_utf8", "corrupt_jsonl", "missing_required_column"):
            assert state == "rejected" and loaded == 0 and rejected == received > 0
            rules = set(quarantined(conn, fault["source"]).values())
            marker = {"not_utf8": "not valid UTF-8", "corrupt_jsonl": "malformed JSON line",
                      "missing_required_column": f"missing required column(s): {fault['column']}"}[kind]  # fmt: skip
            assert any(marker in rule for rule in rules)
        elif kind == "extra_column":
            assert any(file in warning for warning in loads[fault["source"]].warnings)


def test_no_good_row_is_lost_and_rows_add_up(faulty):
    _, faults, conn, _ = faulty
    whole_file = {f["file"] for f in faults if f["row_number"] is None}
    fault_rows = {(f["file"], f["row_number"]) for f in faults if f["row_number"] is not None}
    for source in SOURCES:
        for (file, number), rule in quarantined(conn, source).items():
            if file not in whole_file:
                assert (file, number) in fault_rows, f"good row quarantined: {file} row {number}: {rule}"
    for file, received, loaded, rejected in conn.execute(
        "SELECT file, rows_received, rows_loaded, rows_quarantined FROM ops.landing_files"
    ).fetchall():
        assert received is None or received == loaded + rejected, file


def test_relanding_the_corrected_file_replaces_exactly_its_rows(faulty):
    data_dir, faults, conn, _ = faulty
    [fault] = [f for f in faults if f["kind"] == "relanded_corrected"]
    source, file = fault["source"], fault["file"]
    others_before = conn.execute(
        f"SELECT count(*) FROM staging.{source} WHERE _source_file <> ?", [file]
    ).fetchall()
    assert any(f == file for f, _ in quarantined(conn, source))
    shutil.copy(data_dir / "relanding" / file, data_dir / "raw" / file)
    load = load_source(conn, data_dir / "raw", SOURCES[source], END)
    assert [o.file.relpath for o in load.outcomes] == [file]
    assert not any(f == file for f, _ in quarantined(conn, source))
    assert load.rows_quarantined == 0 and load.rows_loaded == load.rows_received
    assert (
        conn.execute(f"SELECT count(*) FROM staging.{source} WHERE _source_file <> ?", [file]).fetchall()
        == others_before
    )
    # And a run over unchanged files changes nothing.
    again = {name: load_source(conn, data_dir / "raw", contract, END) for name, contract in SOURCES.items()}
    assert all(not result.outcomes for result in again.values())
