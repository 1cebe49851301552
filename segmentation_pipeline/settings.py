"""Run settings from the environment, with defaults: paths, analysis date, thresholds."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from segmentation_pipeline.ingest.landing import newest_landing_date


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


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

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            data_dir=Path(_env("SEGMENTATION_DATA_DIR", "data")),
            as_of=_env("SEGMENTATION_AS_OF", ""),
            reject_threshold=float(_env("SEGMENTATION_REJECT_THRESHOLD", "0.05")),
            rfm_monetary=_env("SEGMENTATION_RFM_MONETARY", "margin"),
            cost_per_effort_point=float(_env("SEGMENTATION_COST_PER_EFFORT_POINT", "2.0")),
            annual_discount_rate=float(_env("SEGMENTATION_ANNUAL_DISCOUNT_RATE", "0.10")),
            holdout_days=int(_env("SEGMENTATION_HOLDOUT_DAYS", "90")),
            brand=_env("SEGMENTATION_BRAND", "Maison Exemple"),
            category=_env("SEGMENTATION_CATEGORY", "home and lifestyle goods"),
            category_fr=_env("SEGMENTATION_CATEGORY_FR", "articles pour la maison et l'art de vivre"),
            claim_support=float(_env("SEGMENTATION_CLAIM_SUPPORT", "0.6")),
            lock_wait_seconds=float(_env("SEGMENTATION_LOCK_WAIT_SECONDS", "60")),
            duckdb_memory_limit=_env("SEGMENTATION_DUCKDB_MEMORY_LIMIT", "1500MB"),
            features_duckdb_memory_limit=_env("SEGMENTATION_FEATURES_DUCKDB_MEMORY_LIMIT", "1000MB"),
            full_refresh=_env("SEGMENTATION_FULL_REFRESH", "0").lower() in ("1", "true", "yes"),
            currency=_env("SEGMENTATION_CURRENCY", "EUR").upper(),
            assumed_margin_rate=float(rate)
            if (rate := _env("SEGMENTATION_ASSUMED_MARGIN_RATE", ""))
            else None,
        )

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
        """SEGMENTATION_AS_OF if set, else the date of the newest landed file (else today)."""
        if self.as_of:
            try:
                return dt.date.fromisoformat(self.as_of)
            except ValueError:
                raise ValueError(f"SEGMENTATION_AS_OF={self.as_of!r} is not a YYYY-MM-DD date") from None
        return newest_landing_date(self.raw_dir) or dt.date.today()
