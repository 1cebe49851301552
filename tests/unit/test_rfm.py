"""RFM scores (hand-computed), tie-breaking, segment rules and their order, and the summary."""

from __future__ import annotations

import itertools

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from segmentation_pipeline.models.rfm.scores import (
    CATCH_ALL,
    PROSPECT,
    SEGMENT_ORDER,
    SEGMENT_RULES,
    assign_rfm_segments,
    score_rfm,
    summarize_rfm_segments,
)

NAMED = {name for name, _, _ in SEGMENT_RULES} | {CATCH_ALL}


def frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "customer_id": pl.String,
            "recency_days": pl.Int32,
            "frequency": pl.Int32,
            "monetary": pl.Float64,
            "margin": pl.Float64,
        },
        orient="row",
    )


SMALL = frame(
    [
        ("c01", 5, 1, 100.0, 10.0),
        ("c02", 10, 1, 50.0, 5.0),
        ("c03", 20, 2, 300.0, 30.0),
        ("c04", 40, 1, 20.0, 2.0),
        ("c05", 60, 3, 80.0, 8.0),
        ("c06", 90, 1, 10.0, 1.0),
        ("c07", 120, 5, 500.0, 50.0),
        ("c08", 200, 1, 60.0, 6.0),
        ("c09", 300, 2, 40.0, 4.0),
        ("c10", 400, 1, 5.0, 0.5),
        ("p", None, 0, 0.0, 0.0),
    ]
)
# Ten buyers and a prospect. score = floor(5 * (buyers with a strictly worse value) / 10) + 1.
# R (recency all distinct): c01, c02 -> 5 | c03, c04 -> 4 | c05, c06 -> 3 | c07, c08 -> 2 | c09, c10 -> 1.
# F: six one-order customers (nobody is below them) -> 1; two orders (6 below) -> 4; three and
# five orders (8 and 9 below) -> 5. M by margin (all distinct), two customers per score.
# FM = (F + M + 1) // 2, then the (R, FM) grid.
EXPECTED = {
    "c01": (5, 1, 4, "Loyal Customers"),  # FM 3
    "c02": (5, 1, 3, "Potential Loyalist"),  # FM 2
    "c03": (4, 4, 5, "Champions"),  # FM 5
    "c04": (4, 1, 2, "Potential Loyalist"),  # FM 2
    "c05": (3, 5, 4, "Loyal Customers"),  # FM 5
    "c06": (3, 1, 1, "About To Sleep"),  # FM 1
    "c07": (2, 5, 5, "At Risk"),  # FM 5
    "c08": (2, 1, 3, "Hibernating"),  # FM 2
    "c09": (1, 4, 2, "At Risk"),  # FM 3
    "c10": (1, 1, 1, "Lost"),  # FM 1
    "p": (None, None, None, PROSPECT),
}


def as_dict(scored: pl.DataFrame) -> dict:
    return {
        r[0]: tuple(r[1:])
        for r in scored.select("customer_id", "r_score", "f_score", "m_score", "rfm_segment").rows()
    }


def test_hand_computed_scores_and_segments():
    scored = score_rfm(SMALL)
    assert scored.columns == ["customer_id", "r_score", "f_score", "m_score", "rfm_segment"]
    assert scored.schema["r_score"] == pl.Int8 and scored.schema["m_score"] == pl.Int8
    assert scored["customer_id"].to_list() == SMALL["customer_id"].to_list()  # input order kept
    assert as_dict(scored) == EXPECTED


def test_revenue_scoring_and_margin_fallback():
    # Margin reverses the money order of c01 and c03: only M (and what follows) changes.
    flipped = SMALL.with_columns(
        margin=pl.when(pl.col("customer_id") == "c01")
        .then(30.0)
        .when(pl.col("customer_id") == "c03")
        .then(10.0)
        .otherwise("margin")
    )
    by_margin, by_revenue = as_dict(score_rfm(flipped)), as_dict(score_rfm(flipped, monetary="revenue"))
    assert (by_margin["c01"][2], by_margin["c03"][2]) == (5, 4)
    assert (by_revenue["c01"][2], by_revenue["c03"][2]) == (4, 5)
    # No known margin at all (no product costs): margin scoring falls back to revenue.
    no_costs = SMALL.with_columns(margin=pl.lit(None, dtype=pl.Float64))
    assert as_dict(score_rfm(no_costs)) == as_dict(score_rfm(SMALL, monetary="revenue"))
    with pytest.raises(ValueError, match="monetary"):
        score_rfm(SMALL, monetary="profit")  # type: ignore[arg-type]


def test_unknown_margin_of_one_buyer_segments_on_f_alone():
    partial = SMALL.with_columns(
        margin=pl.when(pl.col("customer_id") == "c10").then(None).otherwise("margin")
    )
    got = as_dict(score_rfm(partial))
    assert got["c10"][2] is None and got["c10"][3] == expected_segment(*got["c10"][:3])
    assert sorted(v[2] for k, v in got.items() if v[2] is not None) == [1, 1, 2, 2, 3, 3, 4, 4, 5]


def test_ties_get_one_score_and_one_order_customers_get_f1():
    # 100 buyers, 70 with a single order: F = 1 is the truth for all of them (pd.qcut would fail).
    freq = [1] * 70 + [2] * 15 + [3] * 8 + [4] * 4 + [10] * 3
    rows = [
        (f"c{i:03d}", (i * 37) % 365, f, float((i * 53) % 400), float((i * 53) % 400) / 4)
        for i, f in enumerate(freq)
    ]
    scored = frame(rows).join(score_rfm(frame(rows)), on="customer_id")
    by_frequency = scored.group_by("frequency").agg(pl.col("f_score").unique()).sort("frequency")
    assert by_frequency["f_score"].to_list() == [[1], [4], [5], [5], [5]]  # 70, 85, 93, 97 below
    # A higher frequency never gets a lower F score.
    assert by_frequency["f_score"].list.first().is_sorted()
    # Deterministic: same input, same scores, whatever the row order.
    shuffled = frame(rows).sample(fraction=1.0, shuffle=True, seed=7)
    assert score_rfm(shuffled).sort("customer_id").equals(score_rfm(frame(rows)).sort("customer_id"))


def test_identical_one_order_customers_share_one_segment():
    # The reported case: many identical one-order customers (same day, same basket) must not be
    # split between Champions and lower segments by row order.
    rows = [(f"same{i:04d}", 3, 1, 40.0, 12.0) for i in range(1610)]
    rows += [(f"other{i:03d}", 10 + i, 1 + i % 3, 10.0 + i, 3.0 + i) for i in range(400)]
    scored = score_rfm(frame(rows)).filter(pl.col("customer_id").str.starts_with("same"))
    assert scored.select(pl.col("r_score", "f_score", "m_score", "rfm_segment").n_unique()).row(0) == (
        1,
        1,
        1,
        1,
    )


GRID = {  # R -> FM 1..5, as documented in the rfm module: the tests' oracle, written apart from SEGMENT_RULES
    5: ["New Customers", "Potential Loyalist", "Loyal Customers", "Champions", "Champions"],
    4: ["Promising", "Potential Loyalist", "Loyal Customers", "Champions", "Champions"],
    3: ["About To Sleep", "About To Sleep", "Need Attention", "Loyal Customers", "Loyal Customers"],
    2: ["Hibernating", "Hibernating", "At Risk", "At Risk", "At Risk"],
    1: ["Lost", "Lost", "At Risk", "Can't Lose Them", "Can't Lose Them"],
}


def expected_segment(r: int, f: int, m: int | None) -> str:
    """The documented grid read at FM = (F + M) / 2 rounded half up (F alone when M is unknown)."""
    fm = f if m is None else (f + m + 1) // 2
    return GRID[r][fm - 1]


def segments_of(scores: list[tuple[int | None, int | None, int | None]]) -> list[str]:
    """What production assigns (assign_rfm_segments) to (R, F, M) triples."""
    frame_ = pl.DataFrame(
        scores, schema={"r_score": pl.Int8, "f_score": pl.Int8, "m_score": pl.Int8}, orient="row"
    )
    return assign_rfm_segments(frame_)["rfm_segment"].to_list()


def test_segment_grid_and_rule_order():
    # F = M = FM puts each score pair on one cell of the grid.
    cells = [(r, fm, fm) for r in GRID for fm in range(1, 6)]
    assert segments_of(cells) == [GRID[r][fm - 1] for r, fm, _ in cells]
    # Overlapping rules: the specific cell wins because its rule comes first.
    assert segments_of([(3, 3, 3)]) == ["Need Attention"]  # Loyal Customers' range also covers R3/FM3
    assert segments_of([(1, 4, 4)]) == ["Can't Lose Them"]  # At Risk's range also covers R1/FM4
    names = [name for name, _, _ in SEGMENT_RULES]
    assert names.index("Need Attention") < names.index("Loyal Customers")
    assert names.index("Can't Lose Them") < names.index("At Risk")
    assert {s for row in GRID.values() for s in row} == NAMED  # all eleven reachable
    # FM rounds half up, and an unknown M leaves F alone; a null R is a prospect.
    assert segments_of([(5, 1, 2), (5, 2, 3), (4, 1, None), (4, 4, None), (None, None, None)]) == [
        "Potential Loyalist",  # FM 2
        "Loyal Customers",  # FM 3
        "Promising",  # FM 1
        "Champions",  # FM 4
        PROSPECT,
    ]


def test_all_125_score_combinations_get_exactly_one_named_segment():
    combos = list(itertools.product(range(1, 6), repeat=3))
    got = segments_of(combos)
    assert None not in got
    assert set(got) <= NAMED
    for (r, f, m), segment in zip(combos, got, strict=True):
        assert segment == expected_segment(r, f, m)
        fm = (f + m + 1) // 2
        matching = [n for n, (rl, rh), (fl, fh) in SEGMENT_RULES if rl <= r <= rh and fl <= fm <= fh]
        assert segment == (matching[0] if matching else CATCH_ALL)  # first matching rule, else catch-all


@st.composite
def features_frames(draw):
    n = draw(st.integers(min_value=1, max_value=60))
    rows = []
    for i in range(n):
        frequency = draw(st.integers(min_value=0, max_value=6))
        if frequency == 0:
            rows.append((f"c{i}", None, 0, 0.0, 0.0))
            continue
        monetary = draw(st.floats(min_value=0, max_value=1e4, allow_nan=False))
        margin = draw(st.one_of(st.none(), st.floats(min_value=-1e3, max_value=1e4, allow_nan=False)))
        rows.append((f"c{i}", draw(st.integers(min_value=0, max_value=30)), frequency, monetary, margin))
    return frame(rows)


@given(features=features_frames(), monetary=st.sampled_from(["margin", "revenue"]))
def test_every_buyer_gets_exactly_one_segment(features, monetary):
    scored = features.join(score_rfm(features, monetary=monetary), on="customer_id")
    assert scored.height == features.height
    buyers = scored.filter(pl.col("frequency") > 0)
    prospects = scored.filter(pl.col("frequency") == 0)
    assert (prospects["rfm_segment"] == PROSPECT).all()
    assert (
        prospects.select(pl.col("r_score", "f_score", "m_score").null_count().sum()).row(0)
        == (prospects.height,) * 3
    )
    assert buyers["rfm_segment"].is_in(list(NAMED)).all()
    for score, value in (("r_score", -pl.col("recency_days")), ("f_score", pl.col("frequency"))):
        assert buyers[score].is_between(1, 5).all()
        # Equal values, equal scores; a better value never scores lower.
        per_value = buyers.group_by(value.alias("v")).agg(lo=pl.col(score).min(), hi=pl.col(score).max())
        assert (per_value["lo"] == per_value["hi"]).all()
        assert per_value.sort("v")["lo"].is_sorted()
        # As balanced as ties allow: without ties the bins are equal (+-1).
        if buyers.select(value.n_unique()).item() == buyers.height >= 5:
            sizes = buyers.group_by(score).len()["len"]
            assert sizes.max() - sizes.min() <= 1
    for r, f, m, segment in buyers.select("r_score", "f_score", "m_score", "rfm_segment").rows():
        assert segment == expected_segment(r, f, m)


@given(
    features=features_frames(), monetary=st.sampled_from(["margin", "revenue"]), seed=st.integers(0, 10**6)
)
def test_scores_depend_only_on_the_customers_own_values(features, monetary, seed):
    scored = score_rfm(features, monetary=monetary).sort("customer_id")
    # Permuting the rows changes nobody's score.
    shuffled = features.sample(fraction=1.0, shuffle=True, seed=seed)
    assert score_rfm(shuffled, monetary=monetary).sort("customer_id").equals(scored)
    # A copy of a customer's values (another id) gets exactly that customer's scores and segment.
    original = features.row(seed % features.height, named=True)
    twin = pl.DataFrame([{**original, "customer_id": "zz-twin"}], schema=features.schema)
    with_twin = score_rfm(pl.concat([features, twin]), monetary=monetary)
    got = {r["customer_id"]: r for r in with_twin.to_dicts()}
    assert {k: v for k, v in got[original["customer_id"]].items() if k != "customer_id"} == {
        k: v for k, v in got["zz-twin"].items() if k != "customer_id"
    }


def test_summary_counts_revenue_margin_shares_and_order():
    profile = SMALL.join(score_rfm(SMALL), on="customer_id")
    summary = summarize_rfm_segments(profile)
    assert summary.columns == ["rfm_segment", "customers", "revenue", "margin", "share"]
    assert summary["rfm_segment"].to_list() == list(SEGMENT_ORDER)
    got = {r["rfm_segment"]: r for r in summary.to_dicts()}
    assert (got["Champions"]["customers"], got["Champions"]["revenue"], got["Champions"]["margin"]) == (
        1,
        300.0,
        30.0,
    )  # c03
    assert (got["At Risk"]["customers"], got["At Risk"]["revenue"]) == (2, 540.0)  # c07, c09
    assert got["At Risk"]["share"] == pytest.approx(2 / 11)
    assert (got["Promising"]["customers"], got["Promising"]["revenue"], got["Promising"]["margin"]) == (
        0,
        0.0,
        0.0,
    )
    assert got[PROSPECT]["customers"] == 1
    assert summary["share"].sum() == pytest.approx(1.0)
    assert summary["customers"].sum() == SMALL.height


def test_summary_of_empty_profile():
    empty = frame([]).with_columns(rfm_segment=pl.lit(None, dtype=pl.String))
    summary = summarize_rfm_segments(empty)
    assert summary["rfm_segment"].to_list() == list(SEGMENT_ORDER)  # every row kept, for dashboards
    assert summary["customers"].sum() == 0
    assert summary["share"].null_count() == summary.height  # 0 of 0 customers is no share, not 0%


def test_no_buyers_at_all():
    only_prospects = frame([("p1", None, 0, 0.0, 0.0), ("p2", None, 0, 0.0, 0.0)])
    assert score_rfm(only_prospects)["rfm_segment"].to_list() == [PROSPECT, PROSPECT]
    assert score_rfm(frame([])).height == 0
