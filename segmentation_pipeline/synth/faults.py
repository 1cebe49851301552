"""Bad input on purpose: breaks a few landing files in every way the contract forbids and lists each fault."""

# Row faults are appended to one file per source as copies of a clean row of that file, given a
# fresh key and then broken in exactly one way: every original row stays good and each injected row
# has one unambiguous reason. Whole-file faults each get a day of their own. The list goes to
# `truth/faults.jsonl` (row_number = 1-based data row, header excluded; null for a whole file).

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import polars as pl

from segmentation_pipeline.synth.days import FORMATS, file_name
from segmentation_pipeline.synth.world import Window

Row = dict[str, object]
Mutation = Callable[[Row, dt.date], Row]

EXTRA_COLUMN = "loyalty_tier"
HTML_ERROR_PAGE = (
    "<html><head><title>503 Service Unavailable</title></head>\n"
    "<body><h1>Service Unavailable</h1><p>The export service is temporarily overloaded.</p></body></html>\n"
)


@dataclass(frozen=True)
class Fault:
    source: str
    file: str  # relative to raw/
    row_number: int | None
    column: str | None
    kind: str


def _set(**values: object) -> Mutation:
    return lambda row, day: dict(values)


def _future(column: str, typed: bool = False) -> Mutation:
    """A timestamp three days after the file's date: beyond the allowed landing date + 1 day."""

    def mutate(row: Row, day: dt.date) -> Row:
        ts = dt.datetime.combine(day + dt.timedelta(days=3), dt.time(10, 0))
        return {column: ts if typed else ts.isoformat()}

    return mutate


def _bad_email(row: Row, day: dt.date) -> Row:
    email = row.get("email")
    return {"email": str(email).replace("@", ".") if email else "jean.dupont.gmail.com"}


def _discount_over_total(row: Row, day: dt.date) -> Row:
    total = float(str(row["quantity"])) * float(str(row["unit_price"]))
    return {"discount": f"{total + 10:.2f}"}


# (kind, column, mutation) per source. Each mutation breaks exactly one rule of the contract; when
# quantity or price is broken the discount is cleared too, so "discount <= total" cannot fail as well.
ROW_FAULTS: dict[str, list[tuple[str, str, Mutation]]] = {
    "customers": [
        ("missing_required", "customer_id", _set(customer_id="")),
        ("missing_required", "updated_at", _set(updated_at="")),
        ("bad_enum", "gender", _set(gender="unspecified")),
        ("bad_enum", "income_band", _set(income_band="100k_plus")),
        ("bad_enum", "web_savviness", _set(web_savviness="expert")),
        ("bad_enum", "acquisition_channel", _set(acquisition_channel="tv")),
        ("out_of_range", "birth_year", _set(birth_year="1850")),
        ("unparseable", "signup_date", _set(signup_date="2025-02-30")),
        ("unparseable", "birth_year", _set(birth_year="abc")),
        ("bad_country", "country", _set(country="France")),
        ("bad_country", "country", _set(country="fr")),
        ("bad_email", "email", _bad_email),
        ("future_timestamp", "updated_at", _future("updated_at")),
    ],
    "products": [
        ("missing_required", "category", _set(category=None)),
        ("out_of_range", "unit_cost", _set(unit_cost=-1.0)),
        ("out_of_range", "list_price", _set(list_price=-5.0)),
        ("future_timestamp", "updated_at", _future("updated_at", typed=True)),
    ],
    "orders": [
        ("missing_required", "customer_id", _set(customer_id="")),
        ("missing_required", "unit_price", _set(unit_price="", discount="")),
        ("bad_enum", "channel", _set(channel="kiosk")),
        ("bad_enum", "status", _set(status="shipped")),
        ("bad_enum", "occasion", _set(occasion="black_friday")),
        ("out_of_range", "quantity", _set(quantity="-2", discount="")),
        ("out_of_range", "unit_price", _set(unit_price="-19.99", discount="")),
        ("out_of_range", "line_number", _set(line_number="0")),
        ("out_of_range", "payment_days_late", _set(payment_days_late="-3")),
        ("unparseable", "quantity", _set(quantity="abc", discount="")),
        ("unparseable", "ordered_at", _set(ordered_at="2025-13-45T10:00:00")),
        ("discount_exceeds_total", "discount", _discount_over_total),
        ("future_timestamp", "ordered_at", _future("ordered_at")),
    ],
    "surveys": [
        ("missing_required", "response_id", _set(response_id="")),
        ("missing_required", "submitted_at", _set(submitted_at="")),
        ("bad_enum", "discovery_channel", _set(discovery_channel="tv")),
        ("bad_enum", "main_motivation", _set(main_motivation="luck")),
        ("bad_enum", "main_barrier", _set(main_barrier="weather")),
        ("bad_enum", "brand_perception", _set(brand_perception="trendy")),
        ("out_of_range", "importance_price", _set(importance_price="6")),
        ("out_of_range", "satisfaction", _set(satisfaction="0")),
        ("out_of_range", "nps", _set(nps="11")),
        ("unparseable", "submitted_at", _set(submitted_at="2025-13-45T10:00:00")),
        ("unparseable", "importance_service", _set(importance_service="five")),
        ("future_timestamp", "submitted_at", _future("submitted_at")),
    ],
    "social": [
        ("missing_required", "customer_id", _set(customer_id=None)),
        ("missing_required", "followers", _set(followers=None)),
        ("bad_enum", "platform", _set(platform="myspace")),
        ("out_of_range", "followers", _set(followers=-5)),
        ("out_of_range", "engagement_rate", _set(engagement_rate=1.7)),
        ("out_of_range", "brand_mentions_90d", _set(brand_mentions_90d=-1)),
        ("unparseable", "followers", _set(followers="12k")),
        ("unparseable", "observed_at", _set(observed_at="2025-13-45T03:00:00")),
        ("future_timestamp", "observed_at", _future("observed_at")),
    ],
    "service": [
        ("missing_required", "customer_id", _set(customer_id=None)),
        ("missing_required", "effort_score", _set(effort_score=None)),
        ("bad_enum", "channel", _set(channel="fax")),
        ("out_of_range", "effort_score", _set(effort_score=11)),
        ("out_of_range", "resolution_minutes", _set(resolution_minutes=-5.0)),
        ("unparseable", "opened_at", _set(opened_at="2025-13-45T09:00:00")),
        ("unparseable", "effort_score", _set(effort_score="high")),
        ("future_timestamp", "opened_at", _future("opened_at")),
    ],
}
DUPLICATE_IN_FILE = ("orders", "surveys", "social", "service")
DUPLICATE_ACROSS_FILES = ("orders", "service")


def _fresh_key(source: str, row: Row, k: int) -> Row:
    """A key no generated row uses, so an injected row only breaks the rule it was built for."""
    if source == "social":  # key (customer_id, platform, observed_at): move the observation a few seconds
        observed = dt.datetime.fromisoformat(str(row["observed_at"])) + dt.timedelta(seconds=k)
        return {"observed_at": observed.isoformat()}
    prefix, width, extra = {
        "customers": ("C9", 7, {}),
        "products": ("P9", 5, {}),
        "orders": ("O9", 9, {"line_number": "1"}),
        "surveys": ("R9", 8, {}),
        "service": ("T9", 8, {}),
    }[source]
    key = {"customers": "customer_id", "products": "product_id", "orders": "order_id"}.get(source)
    key = key or {"surveys": "response_id", "service": "ticket_id"}[source]
    return {key: f"{prefix}{k:0{width}d}", **extra}


# ---------------------------------------------------------------------------------------------
# Reading and appending rows, per format. CSV rows are strings (None = empty), JSON rows keep
# their JSON types, Parquet rows their column types.


def _read_rows(path: Path, source: str) -> list[Row]:
    fmt = FORMATS[source]
    if fmt == "csv":
        return pl.read_csv(path, infer_schema=False).to_dicts()
    if fmt == "parquet":
        return pl.read_parquet(path).to_dicts()
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _append_rows(path: Path, source: str, rows: list[Row]) -> None:
    fmt = FORMATS[source]
    if fmt == "csv":
        columns = pl.read_csv(path, n_rows=0, infer_schema=False).columns
        # An empty value is an empty field, as in the generated rows (polars would write `""`).
        rows = [{c: (None if v == "" else v) for c, v in row.items()} for row in rows]
        frame = pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String))
        buffer = io.StringIO()
        frame.write_csv(buffer, include_header=False)
        with path.open("a", encoding="utf-8", newline="") as handle:
            handle.write(buffer.getvalue())
    elif fmt == "parquet":
        existing = pl.read_parquet(path)
        added = pl.DataFrame(rows, schema=existing.schema)
        pl.concat([existing, added]).write_parquet(path, compression="zstd")
    else:
        with path.open("a", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")


class _Injector:
    def __init__(self, out_dir: Path, window: Window, rng: np.random.Generator) -> None:
        self.raw = out_dir / "raw"
        self.out_dir = out_dir
        self.window = window
        self.rng = rng
        self.faults: list[Fault] = []
        self.claimed: set[int] = set()
        # Never the last two days (the default analysis date is the newest file) nor day 0 (snapshots).
        self.candidates = list(range(window.days - 3, 0, -1))

    def path(self, source: str, day: int) -> Path:
        return self.raw / source / file_name(source, self.window.date(day))

    def rel(self, source: str, day: int) -> str:
        return f"{source}/{file_name(source, self.window.date(day))}"

    def rows(self, source: str, day: int) -> int:
        path = self.path(source, day)
        if not path.exists() or path.stat().st_size == 0:
            return 0
        if FORMATS[source] == "csv":
            return pl.read_csv(path, infer_schema=False).height
        return pl.read_parquet(path).height if FORMATS[source] == "parquet" else len(_read_rows(path, source))

    def claim(self, source: str, min_rows: int = 1, must_exist: bool = True) -> int:
        """The latest unclaimed day whose file of `source` has at least `min_rows` rows."""
        for day in self.candidates:
            if day in self.claimed:
                continue
            if not must_exist or self.rows(source, day) >= min_rows:
                self.claimed.add(day)
                return day
        raise ValueError(
            f"no day left with a {source} file of {min_rows}+ rows; generate more customers or days"
        )

    def record(self, source: str, day: int, row: int | None, column: str | None, kind: str) -> None:
        self.faults.append(Fault(source, self.rel(source, day), row, column, kind))

    # -- row faults ------------------------------------------------------------------------------

    def row_faults(self, source: str) -> None:
        day = self.claim(source)
        path = self.path(source, day)
        rows = _read_rows(path, source)
        template = rows[0]
        added: list[Row] = []
        for k, (kind, column, mutate) in enumerate(ROW_FAULTS[source], start=1):
            row = {**template, **_fresh_key(source, template, k)}
            row.update(mutate(row, self.window.date(day)))
            added.append(row)
            self.record(source, day, len(rows) + len(added), column, kind)
        if source in DUPLICATE_IN_FILE:
            added.append(dict(rows[-1]))
            self.record(source, day, len(rows) + len(added), None, "duplicate_in_file")
        if source in DUPLICATE_ACROSS_FILES:
            earlier = next(d for d in range(day) if d not in self.claimed and self.rows(source, d) > 0)
            added.append(_read_rows(self.path(source, earlier), source)[0])
            self.record(source, day, len(rows) + len(added), None, "duplicate_across_files")
        _append_rows(path, source, added)

    # -- whole-file faults -----------------------------------------------------------------------

    def empty_file(self) -> None:
        day = self.claim("surveys", min_rows=0)
        self.path("surveys", day).write_bytes(b"")
        self.record("surveys", day, None, None, "empty_file")

    def not_utf8(self) -> None:
        day = self.claim("surveys")
        path = self.path("surveys", day)
        text = path.read_text(encoding="utf-8")
        if text.isascii():  # make sure the Latin-1 bytes differ from UTF-8: give row 1 an accented comment
            frame = pl.read_csv(path, infer_schema=False)
            frame = frame.with_columns(frame["comment"].scatter(0, "Très déçu, délai non respecté."))
            text = frame.write_csv()
        path.write_bytes(text.encode("latin-1"))
        self.record("surveys", day, None, None, "not_utf8")

    def missing_required_column(self) -> None:
        day = self.claim("orders")
        path = self.path("orders", day)
        pl.read_csv(path, infer_schema=False).drop("quantity").write_csv(path)
        self.record("orders", day, None, "quantity", "missing_required_column")

    def truncated_file(self) -> None:
        day = self.claim("orders", min_rows=2)
        path = self.path("orders", day)
        data = path.read_bytes()
        last_start = data.rstrip(b"\n").rfind(b"\n") + 1
        # Cut inside the fourth field (ordered_at), so the partial row visibly lacks fields.
        cut = last_start + [i for i, b in enumerate(data[last_start:]) if b == ord(",")][2] + 6
        path.write_bytes(data[:cut])
        n_rows = data.count(b"\n") - 1
        self.record("orders", day, n_rows, None, "truncated_file")

    def corrupt_parquet(self) -> None:
        day = self.claim("products")
        path = self.path("products", day)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])  # the footer (schema, row groups) is gone
        self.record("products", day, None, None, "corrupt_parquet")

    def corrupt_jsonl(self) -> None:
        day = self.claim("social", min_rows=0, must_exist=False)
        self.path("social", day).write_text(HTML_ERROR_PAGE, encoding="utf-8")
        self.record("social", day, None, None, "corrupt_jsonl")

    def extra_column(self) -> None:
        day = self.claim("customers")
        path = self.path("customers", day)
        frame = pl.read_csv(path, infer_schema=False)
        tiers = pl.Series(["gold", "silver", "bronze", None]).gather(self.rng.integers(0, 4, frame.height))
        frame.with_columns(tiers.alias(EXTRA_COLUMN)).write_csv(path)
        self.record("customers", day, None, EXTRA_COLUMN, "extra_column")

    def relanded_corrected(self) -> None:
        """A landed file with three broken rows, and its corrected version under relanding/."""
        day = self.claim("orders", min_rows=4)
        path = self.path("orders", day)
        corrected = self.out_dir / "relanding" / "orders" / path.name
        corrected.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, corrected)
        frame = pl.read_csv(path, infer_schema=False)
        broken = [
            (1, "status", "bad_enum", {"status": "returned_to_sender"}),
            (2, "quantity", "out_of_range", {"quantity": "-1", "discount": None}),
            (3, "ordered_at", "unparseable", {"ordered_at": "2025-13-45T10:00:00"}),
        ]
        for row_number, column, kind, values in broken:
            frame = frame.with_columns(frame[c].scatter(row_number - 1, v) for c, v in values.items())
            self.record("orders", day, row_number, column, kind)
        frame.write_csv(path)
        self.record("orders", day, None, None, "relanded_corrected")


def inject_faults(out_dir: Path, window: Window, rng: np.random.Generator) -> list[Fault]:
    """Break files under `out_dir/raw` and write `out_dir/truth/faults.jsonl`; returns the faults."""
    injector = _Injector(out_dir, window, rng)
    # Whole-file faults first: they need the most specific days (e.g. a products delta).
    injector.corrupt_parquet()
    injector.empty_file()
    injector.not_utf8()
    injector.missing_required_column()
    injector.truncated_file()
    injector.corrupt_jsonl()
    injector.extra_column()
    injector.relanded_corrected()
    for source in ROW_FAULTS:
        injector.row_faults(source)
    with (out_dir / "truth" / "faults.jsonl").open("w", encoding="utf-8") as handle:
        for fault in injector.faults:
            handle.write(json.dumps(asdict(fault)) + "\n")
    return injector.faults
