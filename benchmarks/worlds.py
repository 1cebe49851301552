"""Random worlds for the segment-quality benchmark and test: landing zone -> staging -> features, as the job builds them.

The feature frame is built by the job's own code without Dagster: `ingest.load.load_source` for
every source (parsing, Pandera validation, quarantine), then `features.build.build_feature_tables`
(the body of the `customer_feature_tables` asset) into a scratch DuckDB file, and the segmentation
input is read with the job's `segmentation_input` SQL minus the RFM/CLV joins (the clustering reads
none of those columns). Each world is built once and cached as Parquet (features + truth).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

WORLD_END = dt.date(2026, 6, 30)


@dataclass(frozen=True)
class WorldSpec:
    archetypes: int
    seed: int
    customers: int
    days: int

    @property
    def name(self) -> str:
        return f"k{self.archetypes:02d}_s{self.seed}_n{self.customers}_d{self.days}"


def build_features(data_dir: Path, as_of: dt.date) -> pl.DataFrame:
    """Ingest `data_dir/raw` into a scratch warehouse and build the customer features, as the job does."""
    import duckdb

    from segmentation_pipeline.contracts import SOURCES
    from segmentation_pipeline.features.build import CUSTOMER_FEATURES, build_feature_tables
    from segmentation_pipeline.settings import Settings
    from segmentation_pipeline.staging.load import load_source
    from segmentation_pipeline.warehouse.tables import ensure_schemas, query_frame

    settings = Settings(data_dir=data_dir, settle_seconds=0)  # generated a moment ago, complete
    with tempfile.TemporaryDirectory() as tmp:
        conn = duckdb.connect(str(Path(tmp) / "warehouse.duckdb"), config=settings.duckdb_config())
        try:
            ensure_schemas(conn)
            for contract in SOURCES.values():
                load_source(conn, data_dir / "raw", contract, as_of)
            build_feature_tables(conn, as_of, settings.cost_per_effort_point, full_refresh=True)
            return query_frame(conn, f"SELECT * FROM {CUSTOMER_FEATURES} ORDER BY customer_id")
        finally:
            conn.close()


def world_frames(spec: WorldSpec, cache_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(features, truth) of a random world, generated and built on first use, then read from cache.

    truth: customer_id, archetype (planted), visible_archetype ("prospect" until the first order).
    """
    from segmentation_pipeline.synth import generate_landing_zone
    from segmentation_pipeline.synth.random_world import draw_archetypes

    folder = cache_dir / spec.name
    features_path, truth_path = folder / "features.parquet", folder / "truth.parquet"
    if not (features_path.exists() and truth_path.exists()):
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp)
            generate_landing_zone(
                data_dir, spec.customers, spec.days, spec.seed, end_date=WORLD_END,
                archetypes=draw_archetypes(spec.archetypes, spec.seed),
            )  # fmt: skip
            features = build_features(data_dir, WORLD_END)
            truth = visible_truth(pl.read_parquet(data_dir / "truth" / "archetypes.parquet"), WORLD_END)
        folder.mkdir(parents=True, exist_ok=True)
        features.write_parquet(features_path)
        truth.write_parquet(truth_path)
    return pl.read_parquet(features_path), pl.read_parquet(truth_path)


def visible_truth(truth: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """The planted archetype once the customer's first order is in the data, "prospect" before."""
    return truth.select(
        "customer_id",
        "archetype",
        pl.when(pl.col("first_order_at").dt.date() <= as_of)
        .then(pl.col("archetype"))
        .otherwise(pl.lit("prospect"))
        .alias("visible_archetype"),
    )


def _worlds(count: int, first_seed: int, draw_seed: int) -> list[WorldSpec]:
    """K cycling through 3..12, 3,000-20,000 customers (log-uniform), one to two years."""
    import numpy as np

    rng = np.random.default_rng(draw_seed)
    specs = []
    for i in range(count):
        customers = int(np.exp(rng.uniform(np.log(3_000), np.log(20_000))))
        days = int(rng.choice([365, 548, 730]))
        specs.append(WorldSpec(archetypes=3 + i % 10, seed=first_seed + i, customers=customers, days=days))
    return specs


def benchmark_worlds(count: int = 20) -> list[WorldSpec]:
    """The benchmark's worlds (seeds 1..count): held out, the method was chosen on `tuning_worlds`."""
    return _worlds(count, first_seed=1, draw_seed=20261201)


def tuning_worlds(count: int = 30) -> list[WorldSpec]:
    """The worlds the k choice and weighting were chosen on (seeds 1001..): never the benchmark's."""
    return _worlds(count, first_seed=1001, draw_seed=1001)
