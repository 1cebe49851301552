"""The persona report is one well-formed, self-contained HTML file with every persona."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

import polars as pl
import pytest

from segmentation_pipeline.models.clustering import explain_segments
from segmentation_pipeline.models.personas import build_personas, build_segments_table
from segmentation_pipeline.models.segment_economics import segment_economics
from segmentation_pipeline.models.segment_history import history_rows, migrations
from segmentation_pipeline.reports.persona_report import render_persona_report

AS_OF = date(2026, 6, 30)


def small_profile() -> pl.DataFrame:
    rows = []
    people = {
        1: dict(age=37, gender="male", share_store=0.8, share_online=0.2, occasion_share=0.7, avg_order_value=400.0,
                frequency=6, r_score=4, f_score=3, rfm_segment="Champions", clv_12m=800.0, cost_to_serve=10.0,
                main_motivation="service & quality <b>"),
        2: dict(age=19, gender="female", share_store=0.0, share_online=1.0, occasion_share=0.05, avg_order_value=30.0,
                frequency=12, r_score=5, f_score=5, rfm_segment="Loyal Customers", clv_12m=150.0, cost_to_serve=0.0,
                social_followers=3000),
        0: dict(frequency=0, rfm_segment="Prospect", cost_to_serve=2.0),
    }  # fmt: skip
    for segment_id, person in people.items():
        for i in range(8):
            monetary = (person.get("avg_order_value") or 0) * person["frequency"]
            rows.append(
                {"customer_id": f"{segment_id}-{i}", "segment_id": segment_id, "monetary": monetary,
                 "margin": monetary * 0.3, **person}
            )  # fmt: skip
    return pl.DataFrame(rows, infer_schema_length=None)


@pytest.fixture(scope="module")
def report() -> tuple[str, pl.DataFrame]:
    profile = small_profile()
    economics = segment_economics(profile)
    explanations = explain_segments(profile)
    segments = build_segments_table(profile, economics, build_personas(profile, economics), explanations)
    day1 = history_rows(profile.with_columns(pl.lit(1).alias("segment_id")), date(2026, 6, 29))
    day2 = history_rows(profile, AS_OF)
    moves = migrations(day1, day2, profile.select("customer_id", pl.col("monetary").alias("revenue")))
    rfm = (
        profile.group_by("rfm_segment")
        .agg(pl.len().alias("customers"), pl.col("monetary").sum().alias("revenue"), pl.col("margin").sum())
        .with_columns((pl.col("customers") / pl.col("customers").sum()).alias("share"))
    )
    html = render_persona_report(segments, profile, rfm, moves, {2: 0.31, 3: 0.52, 4: 0.40}, AS_OF, "EUR")
    return html, segments


def test_well_formed_and_self_contained(report):
    html, _ = report
    assert html.startswith("<!DOCTYPE html>")
    ET.fromstring(
        html.removeprefix("<!DOCTYPE html>\n")
    )  # strict XML parse: every tag closed, entities valid
    assert not re.search(r"""(?:src|href|url)\s*[=(]\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
    assert "<script" not in html and "<link" not in html and "@import" not in html


def test_every_persona_and_section_present(report):
    html, segments = report
    for row in segments.iter_rows(named=True):
        assert row["persona_name"] in html
        assert row["narrative_en"].split(".")[0] in html
    for title in ["Segments: size and value", "Personas", "Segment profiles", "RFM grid", "CLV distribution",
                  "Migrations", "Choice of the number of segments"]:  # fmt: skip
        assert f"<h2>{title}</h2>" in html
    assert html.count('<article class="card"') == segments.height
    assert html.count("<svg") >= 4  # sizes, RFM grid, CLV histogram, k line
    assert "service &amp; quality &lt;b&gt;" in html  # user text is escaped


def test_degrades_without_clv_migrations_or_k_scores(report):
    _, segments = report
    profile = small_profile().with_columns(pl.lit(None, dtype=pl.Float64).alias("clv_12m")).drop("r_score")
    html = render_persona_report(segments, profile, None, None, None, AS_OF, "EUR")
    ET.fromstring(html.removeprefix("<!DOCTYPE html>\n"))
    assert "No 12-month CLV in this run" in html
    assert "No migrations yet" in html
    assert "No RFM scores" in html
