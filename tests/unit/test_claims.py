"""Every persona sentence is a claim that holds, recomputed from the customers' own rows."""

from __future__ import annotations

import polars as pl

from segmentation_pipeline.marts.personas import personas as ps
from tests.claim_check import check_claims
from tests.unit.test_personas import JOE, MICHEL, SARAH, make_profile


def check_every_sentence(profile: pl.DataFrame, personas: pl.DataFrame, claims: pl.DataFrame) -> None:
    # The narrative is exactly its claims' sentences: nothing said without a row of evidence.
    check_claims(profile.to_dicts(), personas, claims)


def test_every_sentence_rests_on_a_holding_claim():
    profile = make_profile({1: JOE, 2: SARAH, 3: MICHEL})
    personas, claims = ps.build_personas_and_claims(profile)
    assert set(claims.columns) >= {
        "segment_id",
        "claim",
        "value",
        "base_value",
        "support_share",
        "text_en",
        "text_fr",
    }
    check_every_sentence(profile, personas, claims)


def test_a_trait_of_half_the_segment_is_not_said():
    profile = make_profile({1: JOE, 2: SARAH}).with_columns(
        share_store=pl.Series([0.8] * 5 + [0.0] * 5 + [0.0] * 10),
        share_online=pl.Series([0.2] * 5 + [1.0] * 5 + [1.0] * 10),
    )
    personas, claims = ps.build_personas_and_claims(profile)
    joe = personas.row(0, named=True)
    assert "in store" not in joe["narrative_en"] and "in-store" not in joe["persona_name"]
    assert "buys_in_store" not in claims.filter(pl.col("segment_id") == 1)["claim"].to_list()
    check_every_sentence(profile, personas, claims)


def test_a_mixture_is_told_as_two_groups():
    gifts = {**JOE, "discount_share": 0.0, "occasion_share": 0.7, "avg_order_value": 80.0}
    deals = {**JOE, "discount_share": 0.4, "occasion_share": 0.0, "avg_order_value": 80.0}
    mixed = pl.concat([make_profile({1: gifts}, 11), make_profile({1: deals}, 9).with_columns(
        customer_id=pl.col("customer_id") + "b")])  # fmt: skip
    profile = pl.concat([mixed, make_profile({2: SARAH})], how="diagonal_relaxed")
    personas, claims = ps.build_personas_and_claims(profile)
    row = personas.filter(pl.col("segment_id") == 1).row(0, named=True)
    assert row["persona_name"] == "Two groups: gift buyers and bargain hunters"
    assert (
        "two groups, not one: 55% buy mostly for special occasions, while 45% get a fifth"
        in row["narrative_en"]
    )
    assert "deux groupes, pas un seul" in row["narrative_fr"]
    # Neither group is described as the whole segment.
    assert "He buys for special occasions" not in row["narrative_en"]
    assert "waits for promotions" not in row["narrative_en"]
    check_every_sentence(profile, personas, claims)


def test_no_two_personas_share_a_sentence():
    # Three segments with identical customers: every fact is the same, yet no sentence repeats.
    profile = make_profile({1: JOE, 2: JOE, 3: JOE})
    personas, claims = ps.build_personas_and_claims(profile)
    for language in ("text_en", "text_fr"):
        texts = claims[language].to_list()
        assert len(texts) == len(set(texts)), language
    check_every_sentence(profile, personas, claims)
