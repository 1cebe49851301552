"""Segment quality on generated data: the segments recover the planted archetypes, and hold from one day to the next.

One sample is generated with one day more than the first run sees (same seed, so the history is
the same one); the first run gets every file but the last day's, the second run gets that day
too, as a daily run would. Both runs are the real Dagster job, in process.

The ground truth is the archetype each customer shows in the data the run sees: the planted one
from their first order on, "prospect" before it. The generator plants orders over the whole
window, so customers of buying archetypes who signed up late or order rarely have none yet
(about one in eight over 730 days) and are, in every table the pipeline reads, prospects; no
segmentation can tell their archetype, and even a perfect segmentation of the buyers would
score only about 0.70 against the planted labels of every customer. The test asserts the ARI
over every customer against the visible archetype, and over the buyers alone; the figure
against the planted labels is printed beside them.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation_pipeline.definitions import JOB_NAME, build_definitions
from segmentation_pipeline.models.segmentation.clustering import (
    PROSPECT_SEGMENT_ID,
    SegmentationConfig,
    SegmentModel,
    segment_customers,
)
from segmentation_pipeline.settings import Settings
from segmentation_pipeline.synth import generate_landing_zone
from segmentation_pipeline.warehouse.tables import query_frame, read_sql

CUSTOMERS = 3_000
DAYS = 730  # the first run's window; with 400 days a quarter of the buyers-to-be have no order yet
SEED = 7
FIRST_DAY = dt.date(2026, 6, 30)  # analysis date of the first run (its newest file)
NEW_DAY = FIRST_DAY + dt.timedelta(days=1)
MIN_ARI = 0.6
MIN_SAME_SEGMENT = 0.95


def run_pipeline(data_dir: Path) -> pl.DataFrame:
    """One run of the whole job (analysis date: newest landed file); returns customer_id, segment_id, frequency."""
    result = (
        build_definitions(Settings(data_dir=data_dir, settle_seconds=0))
        .resolve_job_def(JOB_NAME)
        .execute_in_process()
    )
    assert result.success
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as conn:
        profile = conn.sql(
            "SELECT customer_id, as_of_date, segment_id, frequency FROM marts.customer_profile"
        ).pl()
        state = conn.execute(
            "SELECT refitted, reason FROM models.segment_model_state ORDER BY as_of_date DESC, recorded_at DESC LIMIT 1"
        ).fetchall()[0]
    print(f"run as of {profile['as_of_date'].max()}: {state[1]}")
    return profile.drop("as_of_date")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("segment_quality")
    generated = root / "generated"
    generate_landing_zone(generated, customers=CUSTOMERS, days=DAYS + 1, seed=SEED, end_date=NEW_DAY)
    data_dir = root / "data"
    new_files = []
    for path in sorted((generated / "raw").rglob("*")):
        if not path.is_file():
            continue
        target = data_dir / "raw" / path.relative_to(generated / "raw")
        if f"_{NEW_DAY.isoformat()}." in path.name:
            new_files.append((path, target))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    assert new_files, "the generator wrote no file for the new day"

    first = run_pipeline(data_dir)
    for path, target in new_files:  # the next morning's landing
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    second = run_pipeline(data_dir)
    truth = pl.read_parquet(generated / "truth" / "archetypes.parquet")
    return {"first": first, "second": second, "truth": truth, "data_dir": data_dir}


def test_the_runs_cover_the_two_days(two_runs):
    first, second = two_runs["first"], two_runs["second"]
    assert first.height >= CUSTOMERS * 0.9
    assert second.height >= first.height
    assert first.get_column("segment_id").null_count() == second.get_column("segment_id").null_count() == 0


def visible_archetype(truth: pl.DataFrame, as_of: dt.date) -> pl.Expr:
    """The planted archetype once the customer's first order is in the data, "prospect" before."""
    return (
        pl.when(pl.col("first_order_at").dt.date() <= as_of)
        .then(pl.col("archetype"))
        .otherwise(pl.lit("prospect"))
        .alias("visible_archetype")
    )


def test_segments_recover_the_planted_archetypes(two_runs):
    truth = two_runs["truth"]
    scored = two_runs["first"].join(truth, on="customer_id").with_columns(visible_archetype(truth, FIRST_DAY))
    buyers = scored.filter(pl.col("segment_id") != PROSPECT_SEGMENT_ID)
    ari_all = adjusted_rand_score(scored.get_column("visible_archetype"), scored.get_column("segment_id"))
    ari_buyers = adjusted_rand_score(buyers.get_column("archetype"), buyers.get_column("segment_id"))
    ari_planted = adjusted_rand_score(scored.get_column("archetype"), scored.get_column("segment_id"))
    confusion = (
        scored.group_by("visible_archetype", "segment_id")
        .len()
        .pivot(on="segment_id", index="visible_archetype", values="len", sort_columns=True)
        .fill_null(0)
        .sort("visible_archetype")
    )
    with pl.Config(tbl_rows=20, tbl_cols=25, tbl_width_chars=200):
        print(f"\nARI vs visible archetypes: {ari_all:.3f} on all {scored.height:,} customers, {ari_buyers:.3f} "
              f"on {buyers.height:,} buyers; vs planted labels of all customers {ari_planted:.3f}\n{confusion}")  # fmt: skip
    assert ari_all >= MIN_ARI, f"ARI {ari_all:.3f} < {MIN_ARI} over all customers"
    assert ari_buyers >= MIN_ARI, f"ARI {ari_buyers:.3f} < {MIN_ARI} on buyers"
    # Segment 0 is exactly the customers without a counted order, so it holds every planted prospect.
    assert (buyers.get_column("frequency") > 0).all()
    prospects = scored.filter(pl.col("archetype") == "prospect")
    assert (prospects.get_column("segment_id") == PROSPECT_SEGMENT_ID).all()


def test_one_more_day_keeps_customers_in_their_segment(two_runs):
    both = two_runs["first"].join(two_runs["second"], on="customer_id", suffix="_next")
    same = both.select((pl.col("segment_id") == pl.col("segment_id_next")).mean()).item()
    buyers = both.filter(pl.col("segment_id") != PROSPECT_SEGMENT_ID)
    same_buyers = buyers.select((pl.col("segment_id") == pl.col("segment_id_next")).mean()).item()
    print(f"\none more day: {same:.2%} of {both.height:,} customers keep their segment id "
          f"({same_buyers:.2%} of {buyers.height:,} buyers)")  # fmt: skip
    assert same >= MIN_SAME_SEGMENT, f"only {same:.2%} keep their segment id"


def test_a_refit_on_the_new_day_keeps_customers_in_their_segment(two_runs):
    # The daily run reuses the model; on a cadence or drift day it refits. Refit the second day's
    # input from the first day's model, as the asset would, and compare with the first run.
    with duckdb.connect(str(two_runs["data_dir"] / "warehouse.duckdb"), read_only=True) as conn:
        profile = query_frame(conn, read_sql("models/segmentation_input"))
        model_json = conn.execute(
            "SELECT model_json FROM models.segment_model_state WHERE as_of_date = ? ORDER BY recorded_at DESC LIMIT 1",
            [FIRST_DAY],
        ).fetchall()[0][0]
    first = two_runs["first"].select("customer_id", "segment_id")
    refit = segment_customers(
        profile, SegmentModel.from_json(model_json), first, NEW_DAY, SegmentationConfig(force_refit=True)
    )
    assert refit.refitted
    both = first.join(refit.assignment, on="customer_id", suffix="_refit")
    same = both.select((pl.col("segment_id") == pl.col("segment_id_refit")).mean()).item()
    print(
        f"\nrefit on the new day: {same:.2%} of {both.height:,} customers keep their segment id ({refit.reason})"
    )
    assert same >= MIN_SAME_SEGMENT, f"only {same:.2%} keep their segment id after a refit"
