"""Personas: a name, a short story (English and French), a positioning statement and recommended actions
per behavioural segment, all derived deterministically from the segment's customers; assembled here into
the rows of marts.segments and marts.segment_claims.

The stories are the segment's holding claims (claims.py), told in the seeds' order by one sentence plan
(sentences.py) with two phrasebooks (phrasebook_en.py, phrasebook_fr.py): who they are (gender only when
one holds for 65% of the segment, else a neutral persona; age band, income band, region, city,
profession, web savviness), how they buy, their social reach, the five survey questions, what they cost
to serve and bring over 12 months. The name (naming.py) and the positioning's target (positioning.py)
use only words of holding claims; the traits they share are read in traits.py from the segment
summaries of profiles.py. Recommended actions (actions.py) are rules over the profile's numbers; the
service action is read from the segment's service priority alone.
"""

from __future__ import annotations

import polars as pl

from segmentation_pipeline.marts.personas.actions import recommended_actions, service_action, survey_insights
from segmentation_pipeline.marts.personas.claims import (
    CLAIMS_SCHEMA,
    ClaimConfig,
    ClaimRow,
    empty_claims,
    holding_claims,
)
from segmentation_pipeline.marts.personas.config import PersonaConfig
from segmentation_pipeline.marts.personas.naming import (
    SPARE_NAMES,
    first_name,
    persona_name_from_claims,
    unique_name,
)
from segmentation_pipeline.marts.personas.positioning import positioning_from_claims
from segmentation_pipeline.marts.personas.profiles import base_profile, segment_profiles
from segmentation_pipeline.marts.personas.story import tell
from segmentation_pipeline.marts.personas.traits import Traits, read_traits, traits_from_claims

# The personas' public names, wherever they live (defs/marts.py, benchmarks and tests import them here).
__all__ = [
    "PersonaConfig", "SPARE_NAMES", "Traits", "build_personas_and_claims", "build_segments_table",
    "positioning_from_claims", "service_action",
]  # fmt: skip


def build_personas_and_claims(
    profile_with_segment: pl.DataFrame,
    economics: pl.DataFrame | None = None,
    *,
    config: PersonaConfig | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(personas, claims). Personas: one row per segment with persona_name, first_name,
    narrative_en/_fr (the holding claims' sentences, in the plan's order), positioning_statement(_fr),
    recommended_actions (text) and its parts (action_*), survey insight columns. Claims: the rows of
    marts.segment_claims, one per sentence.

    `economics` (from segment_economics) gives the service action its priority.
    """
    config = config or PersonaConfig()
    profiles = segment_profiles(profile_with_segment)
    base = base_profile(profile_with_segment)
    claim_config = ClaimConfig(support=config.claim_support, min_respondents=config.min_respondents)
    claims_by_segment: dict[int, list[ClaimRow]] = {}
    for c in holding_claims(profile_with_segment, claim_config):
        claims_by_segment.setdefault(c.segment_id, []).append(c)
    econ = {r["segment_id"]: r for r in economics.iter_rows(named=True)} if economics is not None else {}
    ranked = sum(r.get("service_priority") is not None for r in econ.values())
    econ = {k: {**r, "ranked_segments": ranked} for k, r in econ.items()}
    rows, claim_rows, names, first_names, said = [], [], set(), set(), set()
    for p in profiles.iter_rows(named=True):
        claims = claims_by_segment.get(p["segment_id"], [])
        t = traits_from_claims(read_traits(p, base, config), claims)
        name = unique_name(t, persona_name_from_claims(t, claims), names, p["segment_id"])
        names.add(name)
        first = first_name(t, name, first_names)
        first_names.add(first)
        texts = []
        for c in claims:
            pair = _tell(c, first, t.gender, config)
            if pair[0] in said or pair[1] in said:  # never a sentence another persona has: say the name
                pair = _tell(c, first, t.gender, config, named=True)
            said.update(pair)
            texts.append(pair)
            claim_rows.append({**c.__dict__, "sentence": len(texts), "text_en": pair[0], "text_fr": pair[1]})
        pos_en, pos_fr = positioning_from_claims(t, claims, config)
        actions = recommended_actions(p, t, econ.get(p["segment_id"]))
        rows.append(
            {
                "segment_id": p["segment_id"],
                "persona_name": name,
                "first_name": first,
                "narrative_en": " ".join(en for en, _ in texts),
                "narrative_fr": " ".join(fr for _, fr in texts),
                "positioning_statement": pos_en,
                "positioning_statement_fr": pos_fr,
                "recommended_actions": "; ".join(f"{k.capitalize()}: {v}" for k, v in actions.items()),
                **{f"action_{k}": v for k, v in actions.items()},
                **survey_insights(p, config),
                "survey_respondents": int(p.get("respondents") or 0),
            }
        )
    # Every other column is text; typed explicitly, since a column that is null in every row (no
    # survey at all) would otherwise have no type for the warehouse.
    counts = {"segment_id": pl.Int64, "survey_respondents": pl.Int64}
    columns = list(rows[0]) if rows else ["segment_id", "persona_name", "survey_respondents"]
    personas = pl.DataFrame(rows, schema={c: counts.get(c, pl.String) for c in columns})
    claims_table = pl.DataFrame(claim_rows, schema=CLAIMS_SCHEMA) if claim_rows else empty_claims()
    return personas, claims_table


def _tell(
    c: ClaimRow, name: str, gender: str | None, config: PersonaConfig, named: bool = False
) -> tuple[str, str]:
    return tell(
        c, name, gender, named=named, brand=config.brand, currency=config.currency, basis=config.value_basis
    )


def build_segments_table(
    profile_with_segment: pl.DataFrame,
    economics: pl.DataFrame,
    personas: pl.DataFrame,
    explanations: pl.DataFrame,
) -> pl.DataFrame:
    """Rows of marts.segments: one per segment, personas joined with economics and explanations."""
    traits = explanations.select("segment_id", "defining_traits")
    econ = economics.select(
        "segment_id",
        pl.col("customers").cast(pl.Int64),
        "customer_share",
        "revenue_share",
        "avg_clv_12m",
        "roi",
        "service_priority",
        "revenue",
        "margin",
        "cost_to_serve",
        "clv_12m_total",
        "expected_cost_to_serve_12m",
        "customers_cost_exceeds_value",
        "service_tickets",
        "total_service_effort",
        "mean_effort_score",
    )
    profiles = segment_profiles(profile_with_segment).select(
        "segment_id",
        pl.col("avg_order_value").alias("median_order_value"),
        pl.col("frequency").alias("median_frequency"),
        pl.col("recency_days").alias("median_recency_days"),
        "share_online",
        "share_store",
        "share_phone",
        "occasion_share",
        "discount_share",
        "late_payment_share",
        pl.col("total_effort").alias("mean_service_effort_per_customer"),
        pl.col("age").alias("median_age"),
        "nps_score",
    )
    table = (
        personas.join(econ, on="segment_id", how="left")
        .join(traits, on="segment_id", how="left")
        .join(profiles, on="segment_id", how="left")
    )
    first = [
        "segment_id",
        "persona_name",
        "customers",
        "customer_share",
        "revenue_share",
        "avg_clv_12m",
        "narrative_en",
        "narrative_fr",
        "positioning_statement",
        "recommended_actions",
        "roi",
        "service_priority",
        "defining_traits",
        "top_motivations",
        "top_barriers",
        "decision_factors",
        "discovery_channels",
        "brand_perceptions",
        "revenue",
        "margin",
        "cost_to_serve",
        "clv_12m_total",
    ]
    return table.select(*first, *[c for c in table.columns if c not in first]).sort("segment_id")
