"""The persona report is one well-formed, self-contained HTML file with every persona."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import date
from html import unescape

import jinja2
import polars as pl
import pytest
from markupsafe import escape

from segmentation_pipeline.marts.economics.segment_economics import segment_economics
from segmentation_pipeline.marts.history.segment_history import history_rows, migrations
from segmentation_pipeline.marts.personas.personas import (
    build_personas_and_claims,
    build_segments_table,
)
from segmentation_pipeline.models.segmentation.clustering import explain_segments
from segmentation_pipeline.reports.charts import log_edges
from segmentation_pipeline.reports.persona_report import ENVIRONMENT, render_persona_report
from segmentation_pipeline.reports.report_words import WORDS

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
    segments = build_segments_table(
        profile, economics, build_personas_and_claims(profile, economics)[0], explanations
    )
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


def test_french_report_with_claims_as_evidence_and_a_language_switch():
    profile = small_profile()
    economics = segment_economics(profile)
    personas, claims = build_personas_and_claims(profile, economics)
    segments = build_segments_table(profile, economics, personas, explain_segments(profile))
    for language, narrative in (("en", "narrative_en"), ("fr", "narrative_fr")):
        html = render_persona_report(
            segments, profile, None, None, None, AS_OF, "EUR", claims, language, "other.html"
        )
        ET.fromstring(html.removeprefix("<!DOCTYPE html>\n"))
        assert f'<html lang="{language}">' in html and 'href="other.html"' in html
        for row in segments.iter_rows(named=True):
            assert escape(row[narrative]) in html
        # Every claim is shown with its evidence: its sentence and the share it holds for.
        for c in claims.iter_rows(named=True):
            assert escape(c[f"text_{language}"]) in html
            assert f"{c['support_share']:.0%} of {c['known_customers']:,}" in html
    assert "Preuves : chaque phrase" in html and "Segments clients et personas" in html


def test_first_run_says_so_and_the_clv_histogram_has_log_bins_and_axes(report):
    _, segments = report
    profile = small_profile()
    first = migrations(None, history_rows(profile, AS_OF), profile.select("customer_id", revenue="monetary"))
    html = render_persona_report(segments, profile, None, first, None, AS_OF, "EUR")
    assert (
        "First run: no previous segments to compare with." in html
        and "stayed in the same segment" not in html
    )
    assert "log-spaced bins" in html and ">customers</text>" in html
    edges = log_edges(10_000.0, 4)
    assert edges[0] == 0 and edges[-1] == pytest.approx(10_000.0)
    assert edges[2] == pytest.approx(10 ** (math.log10(10_001) / 2) - 1)  # evenly spaced on log10(1 + x)
    assert "revenue to date (all history to 2026-06-30)" in html


def test_names_and_texts_are_escaped_and_a_missing_value_fails(report):
    _, segments = report
    hostile = "<script>alert('x')</script> & co"
    named = segments.with_columns(
        persona_name=pl.when(pl.col("segment_id") == 1).then(pl.lit(hostile)).otherwise("persona_name")
    )
    html = render_persona_report(named, small_profile(), None, None, None, AS_OF, "EUR")
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co" in html
    ET.fromstring(html.removeprefix("<!DOCTYPE html>\n"))
    # StrictUndefined: a value the template names but the view lacks is an error, not a blank.
    with pytest.raises(jinja2.UndefinedError):
        ENVIRONMENT.from_string("{{ card.missing }}").render(card={})


def test_the_report_words_are_the_same_keys_in_both_languages():
    assert set(WORDS["en"]) == set(WORDS["fr"])
    for key, english in WORDS["en"].items():
        french = WORDS["fr"][key]
        assert type(english) is type(french), key
        if isinstance(english, dict | list | tuple):
            assert len(english) == len(french) and (
                not isinstance(english, dict) or set(english) == set(french)
            )


def header_note(html: str) -> str:
    [note] = re.findall(r'<p class="note">(.*?)</p></header>', html, flags=re.S)
    return unescape(note)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_header_note_is_whole_sentences_in_the_reports_language(report, language):
    segments = report[1].with_columns(value_basis=pl.lit("revenue"))
    profile = small_profile().with_columns(p_alive_basis=pl.lit("unknown"))
    words = WORDS[language]["basis_note"]
    money_in = words["money"].format(currency="EUR")
    html = render_persona_report(segments, profile, None, None, None, AS_OF, "EUR", language=language)
    assert header_note(html) == f"{money_in} {words['revenue']} {words['unknown']}"
    # Zero customers: a sentence that says what is unknown and why, not "value basis unknown. no P(alive)."
    html = render_persona_report(
        segments.clear(), profile.clear(), None, None, None, AS_OF, "EUR", language=language
    )
    assert header_note(html) == f"{money_in} {words['no_customers']}"
    for note in (header_note(html), *words.values()):
        for sentence in re.split(r"(?<=\.) ", note):  # each starts with a capital and ends with "."
            assert sentence[0].isupper() and sentence.endswith("."), sentence
