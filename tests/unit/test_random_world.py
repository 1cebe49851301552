"""Random worlds: K archetypes drawn from a seed, distinct buying behaviours, sizes, and a landing zone like the sample's."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from segmentation_pipeline.cli import main
from segmentation_pipeline.synth import generate_landing_zone
from segmentation_pipeline.synth.random_world import MIN_SHARE, PROSPECT, draw_archetypes


@pytest.mark.parametrize("k", [3, 7, 12])
def test_a_random_world_has_k_buying_archetypes_and_prospects(k):
    world = draw_archetypes(k, seed=3)
    assert len(world) == k + 1 and world.names[-1] == PROSPECT
    assert len(set(world.names)) == k + 1
    assert world.shares.sum() == pytest.approx(1.0)
    assert (world.shares[:-1] >= MIN_SHARE - 1e-12).all()
    assert (world.table("orders_per_year")[:-1] > 0).all() and world.table("orders_per_year")[-1] == 0
    # Every probability vector is one (the generator's draws need it).
    for field in ("channel", "occasion", "motivation", "gender", "income", "web", "categories"):
        assert np.allclose(world.table(field).sum(axis=1), 1.0)


def test_the_seed_decides_the_world():
    assert draw_archetypes(8, 1).archetypes == draw_archetypes(8, 1).archetypes
    assert draw_archetypes(8, 1).names != draw_archetypes(8, 2).names


def test_archetypes_outside_three_to_twelve_are_refused():
    for k in (2, 13):
        with pytest.raises(ValueError, match="between 3 and 12"):
            draw_archetypes(k, 1)


def test_generate_random_world_writes_its_truth(tmp_path):
    assert main(["generate", "--world", "random", "--archetypes", "4", "--seed", "9", "--customers", "200",
                 "--days", "30", "--out", str(tmp_path)]) == 0  # fmt: skip
    truth = pl.read_parquet(tmp_path / "truth" / "archetypes.parquet")
    assert truth.height == 200
    assert set(truth["archetype"]) <= set(draw_archetypes(4, 9).names)
    assert truth["archetype"].n_unique() == 5
    orders = pl.read_csv(next((tmp_path / "raw" / "orders").glob("*.csv")), infer_schema=False)
    assert orders.height > 0
    # Buyers-to-be have a first order date; the prospect archetype never orders.
    assert (
        truth.filter(pl.col("archetype") == PROSPECT)["first_order_at"].null_count()
        == truth.filter(pl.col("archetype") == PROSPECT).height
    )


def test_archetypes_only_with_a_random_world(tmp_path, capsys):
    assert main(["generate", "--archetypes", "4", "--out", str(tmp_path)]) == 2
    assert "--world random" in capsys.readouterr().err


def test_random_world_same_seed_same_bytes(tmp_path):
    def digest(out):
        world = draw_archetypes(5, 4)
        generate_landing_zone(out, 150, 20, 4, end_date=dt.date(2026, 6, 30), archetypes=world)
        return {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    assert digest(tmp_path / "a") == digest(tmp_path / "b")
