"""Run settings from the environment, with defaults: paths, analysis date, thresholds."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from segmentation_pipeline.staging.landing import latest_acceptable_date, newest_landing_date


class SettingsError(ValueError):
    """A setting that cannot be used: names the variable, its value and the expected form."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _number(name: str, default: str, kind=float, low: float | None = None, high: float | None = None):
    text = _env(name, default)
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or (low is not None and value < low) or (high is not None and value > high):
        bounds = (
            f" between {low:g} and {high:g}"
            if high is not None
            else f" of at least {low:g}"
            if low is not None
            else ""
        )
        raise SettingsError(
            f"{name}={text!r} is not a valid value: expected {'a whole number' if kind is int else 'a number'}{bounds}"
        )
    return value


def _choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = _env(name, default)
    if value not in allowed:
        raise SettingsError(f"{name}={value!r} is not a valid value: expected one of {', '.join(allowed)}")
    return value


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


@dataclass(frozen=True)
class Settings:
    """Every knob an operator may turn; each maps to one SEGMENTATION_* environment variable."""

    data_dir: Path = Path("data")
    as_of: str = ""  # YYYY-MM-DD; empty = date of the newest landed file
    reject_threshold: float = 0.05  # a source's rejected share above this fails the run
    rfm_monetary: str = "margin"  # "margin" (profit, as the articles advise) or "revenue"
    cost_per_effort_point: float = 2.0  # currency units of service cost per effort-score point
    annual_discount_rate: float = 0.10
    holdout_days: int = 90
    brand: str = "Maison Exemple"
    category: str = "home and lifestyle goods"  # English positioning: "… a range of <category> …"
    category_fr: str = (
        "articles pour la maison et l'art de vivre"  # French: « … une gamme d'<category_fr> … »
    )
    claim_support: float = 0.6  # a persona states a trait only when it holds for this share of the segment
    lock_wait_seconds: float = 60.0  # how long a second run waits for the warehouse before failing
    # DuckDB's own cache; Polars frames live beside it in the same process, so keep it bounded
    # (queries that need more spill to disk instead of growing the process).
    duckdb_memory_limit: str = "1500MB"
    # Lower during the feature build, where Polars' frames peak beside DuckDB's cache: at 1M
    # customers the build's peak RSS fell by 0.1 GB at no cost in time (a lower limit for every
    # step slowed publication by 1.7 s).
    features_duckdb_memory_limit: str = "1000MB"
    # Recompute every customer's features rather than only those whose inputs changed.
    full_refresh: bool = False
    # ISO 4217 code of every money column and text (the landing contract carries no currency).
    currency: str = "EUR"
    # When set (0 < rate < 1): revenue-based money is also shown as an estimated margin, labelled
    # as such. Unset = no estimate (margins are never invented).
    assumed_margin_rate: float | None = None
    # A landing file modified more recently than this may still be being written: it waits for the
    # next run. From the environment the default is 60 s; 0 here for code that writes its own files.
    settle_seconds: float = 0.0
    # Rejections declared expected, per source (`orders:missing:customer_id,...`): still quarantined
    # and counted in marts.data_quality, but not toward the blocking rejected-share threshold.
    expected_rejections: str = ""

    @classmethod
    def from_env(cls) -> Settings:
        """The settings of the environment, each checked: a bad value names its variable and form."""
        rate = _env("SEGMENTATION_ASSUMED_MARGIN_RATE", "")
        currency = _env("SEGMENTATION_CURRENCY", "EUR").upper()
        if len(currency) != 3 or not currency.isalpha():
            raise SettingsError(
                f"SEGMENTATION_CURRENCY={currency!r} is not valid: expected an ISO 4217 code such as EUR"
            )
        settings = cls(
            data_dir=Path(_env("SEGMENTATION_DATA_DIR", "data")),
            as_of=_env("SEGMENTATION_AS_OF", ""),
            reject_threshold=_number("SEGMENTATION_REJECT_THRESHOLD", "0.05", low=0, high=1),
            rfm_monetary=_choice("SEGMENTATION_RFM_MONETARY", "margin", ("margin", "revenue")),
            cost_per_effort_point=_number("SEGMENTATION_COST_PER_EFFORT_POINT", "2.0", low=0),
            annual_discount_rate=_number("SEGMENTATION_ANNUAL_DISCOUNT_RATE", "0.10", low=0, high=1),
            holdout_days=_number("SEGMENTATION_HOLDOUT_DAYS", "90", kind=int, low=1),
            brand=_env("SEGMENTATION_BRAND", "Maison Exemple"),
            category=_env("SEGMENTATION_CATEGORY", "home and lifestyle goods"),
            category_fr=_env("SEGMENTATION_CATEGORY_FR", "articles pour la maison et l'art de vivre"),
            claim_support=_number("SEGMENTATION_CLAIM_SUPPORT", "0.6", low=0, high=1),
            lock_wait_seconds=_number("SEGMENTATION_LOCK_WAIT_SECONDS", "60", low=0),
            duckdb_memory_limit=_env("SEGMENTATION_DUCKDB_MEMORY_LIMIT", "1500MB"),
            features_duckdb_memory_limit=_env("SEGMENTATION_FEATURES_DUCKDB_MEMORY_LIMIT", "1000MB"),
            full_refresh=_choice("SEGMENTATION_FULL_REFRESH", "0", ("0", "1", "true", "false", "yes", "no"))
            in ("1", "true", "yes"),
            currency=currency,
            assumed_margin_rate=_number("SEGMENTATION_ASSUMED_MARGIN_RATE", rate, low=0, high=1)
            if rate
            else None,
            settle_seconds=_number("SEGMENTATION_SETTLE_SECONDS", "60", low=0),
            expected_rejections=_env("SEGMENTATION_EXPECTED_REJECTIONS", ""),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Checks that need more than one value's form (raises SettingsError naming the variable)."""
        for name in ("duckdb_memory_limit", "features_duckdb_memory_limit"):
            value = getattr(self, name)
            if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", value, flags=re.IGNORECASE):
                raise SettingsError(
                    f"SEGMENTATION_{name.upper()}={value!r} is not valid: expected a size such as 1500MB"
                )
        parse_expected_rejections(self.expected_rejections)
        if self.as_of:
            self.analysis_date()

    def expected_rules(self, source: str) -> tuple[str, ...]:
        return parse_expected_rejections(self.expected_rejections).get(source, ())

    def duckdb_config(self) -> dict[str, str]:
        """Connect-time configuration of every connection to the warehouse (resource and benchmarks)."""
        # Background threads hand DuckDB's freed memory back to the system between steps rather
        # than at its next allocation: at 1M customers the job's peak RSS fell by ~0.2 GB.
        return {"memory_limit": self.duckdb_memory_limit, "allocator_background_threads": "true"}

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

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
