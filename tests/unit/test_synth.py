"""Sample-data generator: determinism, contract shape, planted archetypes and the fault manifest."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path

import pandera.errors
import polars as pl
import pytest

from segmentation_pipeline.cli import main
from segmentation_pipeline.contracts import SOURCES, enums
from segmentation_pipeline.contracts.tables.ops import LANDING_DATE
from segmentation_pipeline.synth import FORMATS, generate_landing_zone
from segmentation_pipeline.synth.archetypes import NAMES, SHARES

END = dt.date(2026, 6, 30)
CLEAN = {"customers": 1000, "days": 200, "seed": 11}
FAULTY = {"customers": 800, "days": 40, "seed": 5}
NAME = re.compile(r"^(?P<source>[a-z]+)_(?P<date>\d{4}-\d{2}-\d{2})\.(?P<ext>csv|parquet|jsonl)$")
WHOLE_FILE_KINDS = {"truncated_file", "not_utf8", "missing_required_column", "empty_file"}
WHOLE_FILE_KINDS |= {"corrupt_parquet", "corrupt_jsonl", "relanded_corrected", "extra_column"}
REQUIRED_KINDS = WHOLE_FILE_KINDS - {"extra_column"} | {
    "missing_required",
    "bad_enum",
    "out_of_range",
    "unparseable",
    "discount_exceeds_total",
    "future_timestamp",
    "bad_country",
    "bad_email",
    "duplicate_in_file",
    "duplicate_across_files",
}
ENUM_COLUMNS = {
    ("customers", "gender"),
    ("customers", "income_band"),
    ("customers", "web_savviness"),
    ("customers", "acquisition_channel"),
    ("orders", "channel"),
    ("orders", "status"),
    ("orders", "occasion"),
    ("surveys", "discovery_channel"),
    ("surveys", "main_motivation"),
    ("surveys", "main_barrier"),
    ("surveys", "brand_perception"),
    ("social", "platform"),
    ("service", "channel"),
}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate_landing_zone(out, CLEAN["customers"], CLEAN["days"], CLEAN["seed"], end_date=END)
    return out


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("faulty")
    generate_landing_zone(out, FAULTY["customers"], FAULTY["days"], FAULTY["seed"], end_date=END, faults=True)
    return out


# -- parsing files to the contract's types (what ingestion does, strictly for clean files) ---------


def _parse_timestamp(text: pl.Expr) -> pl.Expr:
    with_offset = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%:z", strict=False, time_unit="us", time_zone="UTC")
    plain = text.str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us")
    return pl.coalesce(with_offset.dt.replace_time_zone(None), plain)


def _raw_strings(path: Path, source: str) -> pl.DataFrame:
    if FORMATS[source] == "csv":
        return pl.read_csv(path, infer_schema=False)
    if FORMATS[source] == "parquet":
        return pl.read_parquet(path)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    columns = list(lines[0]) if lines else list(SOURCES[source].columns)
    return pl.DataFrame(
        {
            c: [
                None if r.get(c) is None else str(r[c]).lower() if isinstance(r[c], bool) else str(r[c])
                for r in lines
            ]
            for c in columns
        },
        schema=dict.fromkeys(columns, pl.String),
    )


def parse(path: Path, source: str) -> tuple[pl.DataFrame, pl.Series]:
    """Typed frame with `_landing_date`, plus a per-row count of values that failed to parse."""
    raw = _raw_strings(path, source)
    landing = dt.date.fromisoformat(NAME.match(path.name)["date"])
    if FORMATS[source] == "parquet":
        return raw.with_columns(pl.lit(landing).alias(LANDING_DATE)), pl.Series([0] * raw.height)
    exprs = []
    for column, dtype in SOURCES[source].columns.items():
        text = pl.col(column) if column in raw.columns else pl.lit(None, pl.String)
        if dtype == pl.String:
            exprs.append(text.alias(column))
        elif dtype == pl.Datetime:
            exprs.append(_parse_timestamp(text).alias(column))
        elif dtype == pl.Date:
            exprs.append(text.str.to_date("%Y-%m-%d", strict=False).alias(column))
        elif dtype == pl.Boolean:
            exprs.append(
                text.replace_strict(
                    {"true": True, "false": False}, default=None, return_dtype=pl.Boolean
                ).alias(column)
            )
        else:
            exprs.append(text.cast(dtype, strict=False).alias(column))
    typed = raw.select(exprs).with_columns(pl.lit(landing).alias(LANDING_DATE))
    failed = raw.select(
        pl.sum_horizontal(
            (pl.col(c).is_not_null() & typed[c].is_null()).cast(pl.Int32)
            for c in SOURCES[source].columns
            if c in raw.columns
        )
    ).to_series()
    return typed, failed


def files(root: Path, source: str) -> list[Path]:
    return sorted((root / "raw" / source).iterdir())


_LOADED: dict[tuple[Path, str], pl.DataFrame] = {}


def load(root: Path, source: str) -> pl.DataFrame:
    """Every file of a clean source, parsed and concatenated (cached: several tests read the same)."""
    if (root, source) in _LOADED:
        return _LOADED[root, source]
    frames = []
    for path in files(root, source):
        typed, failed = parse(path, source)
        assert failed.sum() == 0, f"{path.name}: values that do not parse"
        frames.append(typed.with_columns(pl.lit(path.name).alias("_file")))
    _LOADED[root, source] = pl.concat(frames)
    return _LOADED[root, source]


def truth(root: Path) -> pl.DataFrame:
    return pl.read_parquet(root / "truth" / "archetypes.parquet")


# -- determinism and layout ------------------------------------------------------------------------


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    for name, seed in [("a", 3), ("b", 3), ("c", 4)]:
        generate_landing_zone(tmp_path / name, 200, 30, seed, end_date=END, faults=True)
    a, b, c = (_snapshot(tmp_path / n) for n in "abc")
    assert a == b
    assert a != c


def test_layout_one_file_per_day_and_format(clean: Path) -> None:
    window = {END - dt.timedelta(days=d) for d in range(CLEAN["days"])}
    for source, fmt in FORMATS.items():
        names = [p.name for p in files(clean, source)]
        assert names, source
        dates = set()
        for name in names:
            match = NAME.match(name)
            assert match and match["source"] == source and match["ext"] == fmt, name
            dates.add(dt.date.fromisoformat(match["date"]))
        assert dates <= window
        if fmt == "csv":  # CSV sources land every day, header-only when nothing happened
            assert dates == window
    start = min(window).isoformat()
    assert (clean / "raw" / "products" / f"products_{start}.parquet").exists()  # the snapshot
    assert not (clean / "truth" / "faults.jsonl").exists()
    assert not (clean / "relanding").exists()


def test_every_file_has_exactly_the_contract_columns(clean: Path) -> None:
    for source, contract in SOURCES.items():
        for path in files(clean, source):
            if FORMATS[source] == "jsonl":
                first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
                assert list(first) == list(contract.columns), path.name
            elif FORMATS[source] == "parquet":
                frame = pl.read_parquet(path)
                assert frame.schema == pl.Schema(contract.columns), path.name
            else:
                assert pl.read_csv(path, n_rows=0).columns == list(contract.columns), path.name


def test_clean_rows_satisfy_the_pandera_models(clean: Path) -> None:
    for source, contract in SOURCES.items():
        frame = load(clean, source)
        contract.model.validate(frame.drop("_file"), lazy=True)
        if not contract.upsert_by_updated_at:
            assert frame.select(contract.keys).is_duplicated().sum() == 0, f"{source}: duplicate keys"
        # Every timestamp falls on its file's day (UTC), except the nightly product/customer snapshot
        # columns that carry a past signup date (a Date column, not checked here).
        ts_column = next(
            c for c, t in contract.columns.items() if t == pl.Datetime and c in contract.required
        )
        assert (frame[ts_column].dt.date() == frame[LANDING_DATE]).all(), source


def test_csv_timestamps_are_iso_utc_with_a_few_offsets(clean: Path) -> None:
    text = pl.concat([pl.read_csv(p, infer_schema=False) for p in files(clean, "orders")])["ordered_at"]
    with_offset = text.str.contains(r"[+-]\d{2}:\d{2}$").mean()
    assert 0.005 < with_offset < 0.1
    assert text.str.contains(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2})?$").all()


def test_optional_columns_have_some_missing_values(clean: Path) -> None:
    customers = load(clean, "customers")
    for column in ("email", "birth_year", "income_band", "profession"):
        share = customers[column].null_count() / customers.height
        assert 0.01 < share < 0.4, column


# -- ground truth and planted archetypes -----------------------------------------------------------


def test_truth_covers_every_customer(clean: Path) -> None:
    known = set(truth(clean)["customer_id"])
    assert set(load(clean, "customers")["customer_id"]) == known
    assert truth(clean).height == CLEAN["customers"]
    for source in ("orders", "social", "service"):
        assert set(load(clean, source)["customer_id"]) <= known, source
    shares = truth(clean)["archetype"].value_counts(normalize=True)
    observed = dict(zip(shares["archetype"], shares["proportion"], strict=True))
    for name, share in zip(NAMES, SHARES, strict=True):
        assert abs(observed[name] - share) < 0.04, name


def test_truth_dates_each_customers_first_order(clean: Path) -> None:
    first_landed = (
        load(clean, "orders")
        .group_by("customer_id")
        .agg(pl.col("ordered_at").min().dt.replace_time_zone("UTC").alias("landed"))
    )
    both = truth(clean).join(first_landed, on="customer_id", how="left")
    assert both.filter(pl.col("first_order_at").is_null() != pl.col("landed").is_null()).is_empty()
    assert (both["first_order_at"] == both["landed"]).drop_nulls().all()
    assert (
        both.filter(pl.col("archetype") == "prospect")["first_order_at"].null_count()
        == both.filter(pl.col("archetype") == "prospect").height
    )


def test_archetype_signals_are_visible(clean: Path) -> None:
    t = truth(clean)
    customers = (
        load(clean, "customers")
        .sort("updated_at")
        .unique("customer_id", keep="last")
        .join(t, on="customer_id")
    )
    orders = load(clean, "orders").join(t, on="customer_id")

    def by(frame: pl.DataFrame, value: pl.Expr) -> dict[str, float]:
        out = frame.group_by("archetype").agg(value.alias("v"))
        return dict(zip(out["archetype"], out["v"], strict=True))

    age = by(customers, (END.year - pl.col("birth_year")).median())
    assert age["sarah"] < 23 < 33 < age["joe"] < 43

    gross = pl.col("quantity") * pl.col("unit_price")
    discount_share = by(orders, pl.col("discount").sum() / gross.sum())
    assert all(
        discount_share["bargain_hunter"] > 2 * v for k, v in discount_share.items() if k != "bargain_hunter"
    )

    last_order = orders.group_by("archetype").agg(pl.col("ordered_at").max())
    cutoff = dt.datetime.combine(END - dt.timedelta(days=183), dt.time())
    assert last_order.filter(pl.col("archetype") == "lapsed")["ordered_at"][0] < cutoff
    assert "prospect" not in set(orders["archetype"])

    store = by(orders, (pl.col("channel") == "store").mean())
    online = by(orders, (pl.col("channel") == "online").mean())
    assert store["joe"] > 0.7 and online["sarah"] > 0.85
    special = by(orders, pl.col("occasion").is_in(["gift", "holiday", "birthday", "special_event"]).mean())
    assert special["joe"] > 0.8 > 0.4 > special["regular"]
    orders_per_buyer = by(orders, pl.col("order_id").n_unique() / pl.col("customer_id").n_unique())
    basket = by(orders, gross.sum() / pl.col("order_id").n_unique())
    assert orders_per_buyer["sarah"] > 1.5 * orders_per_buyer["joe"] and basket["joe"] > 2 * basket["sarah"]
    returned = by(orders, (pl.col("status") == "returned").mean())
    late = by(orders, (pl.col("payment_days_late") > 0).mean())
    assert returned["high_maintenance"] == max(returned.values())
    assert late["late_payer"] == max(late.values()) > 0.3
    quantity = by(orders, pl.col("quantity").median())
    assert quantity["commercial"] >= 5 and quantity["joe"] <= 2

    social = load(clean, "social").join(t, on="customer_id")
    assert "joe" not in set(social["archetype"])
    followers = by(social, pl.col("followers").median())
    assert 1500 < followers["sarah"] < 6000 and followers["sarah"] == max(followers.values())
    service = load(clean, "service").join(t, on="customer_id")
    effort = by(service, pl.col("effort_score").mean())
    assert effort["high_maintenance"] == max(effort.values()) > 6

    surveys = load(clean, "surveys").join(t, on="customer_id", how="left")
    assert surveys["customer_id"].null_count() > 0  # some anonymous responses
    price = by(surveys.drop_nulls("archetype"), (pl.col("main_motivation") == "price").mean())
    assert price["bargain_hunter"] == max(price.values())


# -- faults ----------------------------------------------------------------------------------------


def manifest(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "truth" / "faults.jsonl").read_text().splitlines()]


def test_fault_manifest_lists_every_kind(faulty: Path) -> None:
    faults = manifest(faulty)
    assert {f["kind"] for f in faults} >= REQUIRED_KINDS
    assert {(f["source"], f["column"]) for f in faults if f["kind"] == "bad_enum"} >= ENUM_COLUMNS
    out_of_range = {(f["source"], f["column"]) for f in faults if f["kind"] == "out_of_range"}
    for expected in [("orders", "quantity"), ("orders", "unit_price"), ("social", "followers")]:
        assert expected in out_of_range
    for f in faults:
        assert set(f) == {"source", "file", "row_number", "column", "kind"}
        assert (faulty / "raw" / f["file"]).exists(), f
        assert f["file"].startswith(f["source"] + "/")
    # Whole-file faults sit on days of their own.
    whole = [f for f in faults if f["kind"] in WHOLE_FILE_KINDS]
    days = [NAME.match(Path(f["file"]).name)["date"] for f in whole]
    assert len(set(days)) == len({f["file"] for f in whole})


def test_whole_file_faults_are_what_they_claim(faulty: Path) -> None:
    raw = faulty / "raw"
    for f in manifest(faulty):
        path = raw / f["file"]
        kind = f["kind"]
        if kind == "empty_file":
            assert path.stat().st_size == 0
        elif kind == "not_utf8":
            with pytest.raises(UnicodeDecodeError):
                path.read_bytes().decode("utf-8")
            assert not path.read_bytes().decode("latin-1").isascii()
        elif kind == "missing_required_column":
            assert f["column"] in SOURCES[f["source"]].required
            assert f["column"] not in pl.read_csv(path, n_rows=0).columns
        elif kind == "truncated_file":
            data = path.read_bytes()
            assert not data.endswith(b"\n") and data.count(b"\n") == f["row_number"]
        elif kind == "corrupt_parquet":
            with pytest.raises(Exception):  # noqa: B017 - any reader error will do
                pl.read_parquet(path)
        elif kind == "corrupt_jsonl":
            with pytest.raises(json.JSONDecodeError):
                json.loads(path.read_text().splitlines()[0])
        elif kind == "extra_column":
            assert f["column"] in pl.read_csv(path, n_rows=0).columns
        elif kind == "relanded_corrected":
            corrected = faulty / "relanding" / f["file"]
            assert corrected.exists() and corrected.read_bytes() != path.read_bytes()
            typed, failed = parse(corrected, f["source"])
            assert failed.sum() == 0
            SOURCES[f["source"]].model.validate(typed)


def _rules_broken(root: Path, source: str, path: Path) -> Counter[int]:
    """Rules each data row (1-based) of a file breaks: parse failures, Pandera checks, duplicate keys."""
    typed, failed = parse(path, source)
    broken: Counter[int] = Counter({i + 1: n for i, n in enumerate(failed.to_list()) if n})
    try:
        SOURCES[source].model.validate(typed, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        cases = errors.failure_cases.filter(pl.col("index").is_not_null())
        # A null in a non-nullable column that came from a parse failure is the same fault.
        for row in cases.iter_rows(named=True):
            if not (row["check"] == "not_nullable" and failed[row["index"]]):
                broken[row["index"] + 1] += 1
    keys = SOURCES[source].keys
    if not SOURCES[source].upsert_by_updated_at:
        seen_before = set()
        for other in files(root, source):
            if other.name < path.name and other.stat().st_size:
                try:
                    seen_before |= set(parse(other, source)[0].select(keys).iter_rows())
                except Exception:  # noqa: BLE001 - whole-file faults are checked elsewhere
                    continue
        in_file = set()
        for i, key in enumerate(typed.select(keys).iter_rows(), start=1):
            if key in in_file or key in seen_before:
                broken[i] += 1
            in_file.add(key)
    return broken


def test_fault_rows_are_the_only_bad_rows_and_break_one_rule_each(faulty: Path) -> None:
    faults = manifest(faulty)
    row_files = {
        (f["source"], f["file"]) for f in faults if f["row_number"] and f["kind"] != "truncated_file"
    }
    assert len(row_files) >= 6
    for source, rel in sorted(row_files):
        expected = {f["row_number"] for f in faults if f["file"] == rel and f["row_number"]}
        broken = _rules_broken(faulty, source, faulty / "raw" / rel)
        assert set(broken) == expected, rel
        assert set(broken.values()) == {1}, rel


def test_clean_files_of_a_faulty_run_stay_clean(faulty: Path) -> None:
    touched = {f["file"] for f in manifest(faulty)}
    for source in ("orders", "service"):
        for path in files(faulty, source):
            if f"{source}/{path.name}" not in touched:
                typed, failed = parse(path, source)
                assert failed.sum() == 0
                SOURCES[source].model.validate(typed)


# -- command line ----------------------------------------------------------------------------------


def test_cli_generate_and_refuse_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "generate",
        "--customers",
        "60",
        "--days",
        "5",
        "--seed",
        "1",
        "--out",
        str(tmp_path),
        "--end",
        "2026-01-31",
    ]
    assert main(args) == 0
    assert "orders" in capsys.readouterr().out
    assert (tmp_path / "raw" / "orders" / "orders_2026-01-31.csv").exists()
    assert main(args) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0


def test_enum_lists_match_the_contract() -> None:
    # The generator draws categorical values by position in these lists.
    assert enums.ORDER_CHANNELS == ["online", "store", "phone"]
    assert enums.OCCASIONS[0] == "none" and enums.ACQUISITION_CHANNELS[4] == "store"
