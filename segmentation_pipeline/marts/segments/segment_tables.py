"""The rows of marts.segments and marts.segment_claims, from the customers with their segment."""

from __future__ import annotations

import polars as pl

from segmentation_pipeline.marts.economics.segment_economics import EconomicsConfig, segment_economics
from segmentation_pipeline.marts.personas.config import PersonaConfig
from segmentation_pipeline.marts.personas.personas import build_personas_and_claims, build_segments_table
from segmentation_pipeline.models.segmentation.clustering import explain_segments


def estimated_margin(amount: pl.Expr, basis: str, rate: float | None) -> pl.Expr:
    """`amount` x the assumed margin rate, only when the operator gave one and margins are unknown."""
    if rate is None or basis != "revenue":
        return pl.lit(None, dtype=pl.Float64)
    return amount.cast(pl.Float64) * rate


def build_segment_tables(
    with_segment: pl.DataFrame,
    economics_config: EconomicsConfig,
    persona_config: PersonaConfig,
    assumed_margin_rate: float | None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(segments, claims) of customers with their segment and economics, on the configs' value basis.

    `with_segment`: the segmentation input with `segment_id` and the customer economics joined
    (at least one customer: an empty base has empty marts, typed by their contracts).
    """
    basis = persona_config.value_basis
    economics = segment_economics(with_segment, economics_config)
    personas, claims = build_personas_and_claims(with_segment, economics, config=persona_config)
    explanations = explain_segments(with_segment, currency=persona_config.currency)
    segments = build_segments_table(with_segment, economics, personas, explanations).with_columns(
        value_basis=pl.lit(basis),
        estimated_margin=estimated_margin(pl.col("revenue"), basis, assumed_margin_rate),
        estimated_margin_clv_12m=estimated_margin(pl.col("clv_12m_total"), basis, assumed_margin_rate),
    )
    return segments, claims
