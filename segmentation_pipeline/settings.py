"""Run settings from the environment, with defaults: paths, analysis date, thresholds."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import Field, dataclass, field, fields
from pathlib import Path
from typing import Any

from segmentation_pipeline.staging.landing import latest_acceptable_date, newest_landing_date


class SettingsError(ValueError):
    """A setting that cannot be used: names the variable, its value and the expected form."""


def env_name(field_name: str) -> str:
    """The environment variable of a setting: `cost_per_effort_point` → SEGMENTATION_COST_PER_EFFORT_POINT."""
    return f"SEGMENTATION_{field_name.upper()}"


def _setting(
    default: Any,
    doc: str,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] = (),
    load_time: bool = False,
) -> Any:
    """A setting: its default, its description (the Dagster UI shows it) and its bounds.

    `load_time`: read when the definitions load, to build the warehouse or the executor (a run's
    config cannot change it: `Settings.check_run_settings`).
    """
    metadata = {"doc": doc, "low": low, "high": high, "choices": choices, "load_time": load_time}
    return field(default=default, metadata=metadata)


TRUE, FALSE = ("1", "true", "yes"), ("0", "false", "no")


def parse_expected_rejections(text: str) -> dict[str, tuple[str, ...]]:
    """`orders:missing:customer_id,surveys:nps` → {"orders": ("missing:customer_id",), "surveys": ("nps",)}."""
    from segmentation_pipeline.contracts import SOURCES

    rules: dict[str, list[str]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        source, _, rule = item.partition(":")
        if source not in SOURCES or not rule.strip():
            raise SettingsError(
                f"SEGMENTATION_EXPECTED_REJECTIONS: {item!r} is not SOURCE:RULE with SOURCE one of "
                f"{', '.join(SOURCES)} (e.g. orders:missing:customer_id)"
            )
        rules.setdefault(source, []).append(rule.strip())
    return {source: tuple(found) for source, found in rules.items()}


def _expected(f: Field) -> str:
    """What a setting's variable must hold, in words: "a number between 0 and 1"."""
    kind = f.type
    if kind == "bool":
        return f"one of {', '.join(TRUE + FALSE)}"
    if kind not in ("int", "float", "float | None"):
        return "text"
    low, high = f.metadata.get("low"), f.metadata.get("high")
    bounds = (
        f" between {low:g} and {high:g}"
        if high is not None
        else f" of at least {low:g}"
        if low is not None
        else ""
    )
    return ("a whole number" if kind == "int" else "a number") + bounds


def _parse(f: Field, text: str):
    """A variable's text as the setting's type (annotations are strings: `from __future__`)."""
    try:
        if f.type == "Path":
            return Path(text)
        if f.type == "bool":
            if text.lower() not in TRUE + FALSE:
                raise ValueError
            return text.lower() in TRUE
        if f.type == "int":
            return int(text)
        if f.type in ("float", "float | None"):
            return float(text)
    except ValueError:
        raise SettingsError(
            f"{env_name(f.name)}={text!r} is not a valid value: expected {_expected(f)}"
        ) from None
    return text.upper() if f.name == "currency" else text


@dataclass(frozen=True)
class Settings:
    """Every knob an operator may turn; each maps to one SEGMENTATION_* environment variable.

    The defaults, descriptions and bounds here are the only ones: `from_env` reads a variable only
    when it is set, the Dagster resource's fields are made from these, and every construction is checked (a bad value
    raises SettingsError naming the variable, when the definitions load and before any step).
    """

    data_dir: Path = _setting(Path("data"), "Landing zone (raw/), warehouse and reports.", load_time=True)
    as_of: str = _setting(
        "", "Analysis date YYYY-MM-DD, at most tomorrow; empty = the date of the newest landed file."
    )
    reject_threshold: float = _setting(
        0.05, "A source's rejected share above this fails the run.", low=0, high=1
    )
    rfm_monetary: str = _setting(
        "margin",
        "Preferred value basis of RFM's M, CLV and ROI: margin (profit, as the articles advise; used "
        "only when every counted order's unit costs are known, else revenue) or revenue.",
        choices=("margin", "revenue"),
    )
    cost_per_effort_point: float = _setting(
        2.0, "Currency units of service cost per service effort-score point.", low=0
    )
    annual_discount_rate: float = _setting(0.10, "Discount rate of the 12-month CLV.", low=0, high=1)
    holdout_days: int = _setting(90, "Holdout period (days) used to choose the CLV model.", low=1)
    brand: str = _setting("Maison Exemple", "The brand named in the positioning statements.")
    category: str = _setting(
        "home and lifestyle goods", 'English positioning: "... a range of <category> ...".'
    )
    category_fr: str = _setting(
        "articles pour la maison et l'art de vivre",
        "French positioning: « ... une gamme d'<category_fr> ... ».",
    )
    claim_support: float = _setting(
        0.6, "A persona states a trait only when it holds for this share of the segment.", low=0, high=1
    )
    lock_wait_seconds: float = _setting(
        60.0, "How long a second run waits for the warehouse before failing.", low=0, load_time=True
    )
    # Polars frames live beside DuckDB's cache in the same process, so keep it bounded.
    duckdb_memory_limit: str = _setting(
        "1500MB",
        "DuckDB's cache limit (queries that need more spill to disk instead of growing the process).",
        load_time=True,
    )
    # Lower during the feature build, where Polars' frames peak beside DuckDB's cache: the build's
    # peak RSS falls at no cost in time, while a lower limit for every step slows publication.
    features_duckdb_memory_limit: str = _setting(
        "1000MB", "DuckDB's cache limit during the feature build (Polars' frames peak beside it)."
    )
    full_refresh: bool = _setting(
        False, "Recompute every customer's features rather than only those whose inputs changed."
    )
    currency: str = _setting(
        "EUR", "ISO 4217 code of every money column and text (the landing contract carries no currency)."
    )
    assumed_margin_rate: float | None = _setting(
        None,
        "When set (0 < rate < 1): revenue-based money is also shown as an estimated margin, labelled as "
        "such. Unset = no estimate (margins are never invented).",
        low=0,
        high=1,
    )
    # Code that has just written complete files itself passes 0 (tests, `make run`'s sample data).
    settle_seconds: float = _setting(
        60.0,
        "A landing file modified more recently than this may still be being written: it waits for the next run.",
        low=0,
    )
    expected_rejections: str = _setting(
        "",
        "Rejections declared expected, SOURCE:RULE comma-separated (orders:missing:customer_id,...): still "
        "quarantined and counted in marts.data_quality, but not toward the blocking rejected-share threshold.",
    )
    warehouse: str = _setting(
        "duckdb",
        "duckdb: one embedded DuckDB file, one run and one writer at a time (in-process steps). ducklake: "
        "a DuckLake (catalog in PostgreSQL, data as Parquet on disk or S3) that many processes write at "
        "once: the job's steps run in parallel processes (multiprocess executor).",
        choices=("duckdb", "ducklake"),
        load_time=True,
    )
    ducklake_catalog: str = _setting(
        "",
        "PostgreSQL URL of the DuckLake catalog database (postgresql://user@host:port/db).",
        load_time=True,
    )
    ducklake_data_path: str = _setting(
        "",
        "Where the lake's Parquet files go: a directory or s3://bucket/prefix/; empty = DATA_DIR/lake/.",
        load_time=True,
    )
    workers: int = _setting(2, "DuckLake mode: step processes running at once.", low=1, load_time=True)
    customer_partitions: int = _setting(
        2,
        "DuckLake mode: the per-customer stages (features, CLV predictions, customer profile) split into this many "
        "customer-hash buckets, one step each (1 = one step per stage). The DuckDB file runs each stage as "
        "one step whatever this says.",
        low=1,
        high=64,
        load_time=True,
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))  # a str from code or config
        self.validate()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings of the environment: a variable left unset or blank keeps the default."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            text = environ.get(env_name(f.name), "").strip()
            if text:
                values[f.name] = _parse(f, text)
        return cls(**values)

    def validate(self) -> None:
        """Bounds, choices and forms (raises SettingsError naming the variable)."""
        for f in fields(self):
            value, rule = getattr(self, f.name), f.metadata
            if value is None:
                continue
            low, high, choices = rule["low"], rule["high"], rule["choices"]
            if choices and value not in choices:
                raise SettingsError(
                    f"{env_name(f.name)}={value!r} is not a valid value: expected one of {', '.join(choices)}"
                )
            if (low is not None and value < low) or (high is not None and value > high):
                raise SettingsError(
                    f"{env_name(f.name)}={value!r} is not a valid value: expected {_expected(f)}"
                )
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise SettingsError(
                f"SEGMENTATION_CURRENCY={self.currency!r} is not valid: expected an ISO 4217 code such as EUR"
            )
        for name in ("duckdb_memory_limit", "features_duckdb_memory_limit"):
            value = getattr(self, name)
            if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", value, flags=re.IGNORECASE):
                raise SettingsError(
                    f"{env_name(name)}={value!r} is not valid: expected a size such as 1500MB"
                )
        parse_expected_rejections(self.expected_rejections)
        if self.warehouse == "ducklake" and not re.match(r"postgres(ql)?://", self.ducklake_catalog):
            raise SettingsError(
                f"SEGMENTATION_DUCKLAKE_CATALOG={self.ducklake_catalog!r} is not valid with SEGMENTATION_WAREHOUSE=ducklake: "
                "expected the URL of a PostgreSQL database, postgresql://USER[:PASSWORD]@HOST:PORT/DATABASE"
            )
        if self.ducklake_data_path.startswith(
            ("gs://", "gcs://", "az://", "abfss://", "http://", "https://")
        ):
            raise SettingsError(
                f"SEGMENTATION_DUCKLAKE_DATA_PATH={self.ducklake_data_path!r} is not supported: "
                "expected a local directory or s3://BUCKET/PREFIX/ (S3 or an S3-compatible server)"
            )
        if self.as_of:
            self.analysis_date()

    def load_time_changes(self, run: Settings) -> list[str]:
        """What `run` changes of these settings (the definitions' own) that only a reload can change.

        One sentence per changed load-time setting (`load_time` on its field): its value as the
        definitions loaded, the run's, and the variable to set instead. Repeating a value is no change.
        """

        def shown(value: Any) -> str:
            return repr(str(value) if isinstance(value, Path) else value)

        return [
            f"{f.name} is read when the definitions load (they loaded with {shown(getattr(self, f.name))}, "
            f"this run's config gives {shown(getattr(run, f.name))}); set {env_name(f.name)} and reload "
            "the code location"
            for f in fields(self)
            if f.metadata["load_time"] and getattr(run, f.name) != getattr(self, f.name)
        ]

    def check_run_settings(self, run: Settings) -> None:
        """Refuse a run's settings that change a load-time setting (SettingsError naming each one)."""
        changes = self.load_time_changes(run)
        if changes:
            raise SettingsError("; ".join(changes))

    def expected_rules(self, source: str) -> tuple[str, ...]:
        return parse_expected_rejections(self.expected_rejections).get(source, ())

    def duckdb_config(self) -> dict[str, str]:
        """Connect-time configuration of every connection to the warehouse (resource and benchmarks)."""
        # Background threads hand DuckDB's freed memory back to the system between steps rather
        # than at its next allocation, which lowers the job's peak RSS.
        return {"memory_limit": self.duckdb_memory_limit, "allocator_background_threads": "true"}

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def lake_data_path(self) -> str:
        """DuckLake's DATA_PATH, ending in `/` (DuckLake joins file names onto it)."""
        path = self.ducklake_data_path or str((self.data_dir / "lake").resolve())
        return path if path.endswith("/") else path + "/"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    def analysis_date(self) -> dt.date:
        """SEGMENTATION_AS_OF if set, else the date of the newest landed file (else today).

        Never later than tomorrow: a file dated further ahead waits (with a warning at load).
        """
        if self.as_of:
            try:
                as_of = dt.date.fromisoformat(self.as_of)
            except ValueError:
                raise SettingsError(f"SEGMENTATION_AS_OF={self.as_of!r} is not a YYYY-MM-DD date") from None
            if as_of > latest_acceptable_date():
                raise SettingsError(
                    f"SEGMENTATION_AS_OF={self.as_of!r} is in the future: expected a date up to {latest_acceptable_date()}"
                )
            return as_of
        return newest_landing_date(self.raw_dir) or dt.date.today()
