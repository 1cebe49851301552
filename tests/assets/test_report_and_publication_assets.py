"""The persona report and the published snapshot, built by their assets from the hand-written shop
of tests/assets/rows.py (stage_shop) through every step after staging (the `shop_dir` fixture
of tests/assets/conftest.py)."""

from __future__ import annotations

import html
import re

import duckdb
import pytest

from segmentation_pipeline.contracts.tables import WRITTEN_TABLES
from segmentation_pipeline.defs.publication import MART_KEYS
from tests.assets.rows import AS_OF
from tests.conftest import published_marts


@pytest.fixture(scope="module")
def shop(shop_dir):
    """The shop's data dir (report and snapshot in it) and a read-only connection to its warehouse."""
    with duckdb.connect(str(shop_dir / "warehouse.duckdb"), read_only=True) as conn:
        yield shop_dir, conn


def report_text(data_dir, suffix: str = "") -> str:
    """The report as a reader sees it: text without markup, styles, scripts or charts."""
    page = (data_dir / "reports" / f"persona_report_{AS_OF.isoformat()}{suffix}.html").read_text("utf-8")
    page = re.sub(r"<(style|script|svg)\b.*?</\1>", " ", page, flags=re.S)
    return one_line(html.unescape(re.sub(r"<[^>]+>", " ", page)))


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)  # non-breaking spaces (French) included


def test_the_report_states_the_marts_figures_and_every_persona_sentence(shop):
    data_dir, conn = shop
    text, text_fr = report_text(data_dir), report_text(data_dir, ".fr")
    # 41 customers, 3 segments (prospects, one-off, weekly), 330 + 33,520 of revenue.
    assert "41 customers 3 segments €33,850 revenue to date" in text
    for name, revenue in conn.execute("SELECT persona_name, revenue FROM marts.segments").fetchall():
        assert name in text and f"€{revenue:,.0f}" in text, name
    for en, fr in conn.execute("SELECT text_en, text_fr FROM marts.segment_claims").fetchall():
        assert one_line(en) in text and one_line(fr) in text_fr


def test_the_report_names_no_figure_its_data_does_not_show(shop):
    data_dir, conn = shop
    text = report_text(data_dir)
    # No CLV this run (too few repeat buyers): no value, P(alive) or ROI figure for any persona.
    assert "No P(alive): the CLV model was not fitted this run." in text
    assert "No 12-month CLV in this run" in text
    assert (
        text.count("mean CLV, next 12 months: —") == text.count("service ROI, next 12 months: unknown") == 3
    )
    # No survey landed: no survey sentence, NPS unknown ("—") in every segment's profile row.
    assert "NPS" not in text.split("Segment profiles")[0]
    # The service advice is true to the segment's tickets: "no ticket" only where there is none.
    for tickets, action in conn.execute(
        "SELECT service_tickets, action_service FROM marts.segments"
    ).fetchall():
        assert action in text
        assert ("no ticket in this segment's history" in action) == (tickets == 0), (tickets, action)


def test_every_mart_is_published_with_its_contracts_columns_and_rows(shop):
    data_dir, conn = shop
    with published_marts(data_dir) as snapshot:
        for key in MART_KEYS:
            name = key[1]
            contract = WRITTEN_TABLES[f"marts.{name}"]
            columns = [(r[0], r[1]) for r in snapshot.execute(f'DESCRIBE "{name}"').fetchall()]
            assert columns == [(c.name, c.type) for c in contract.columns], name
            published = snapshot.execute(f'SELECT count(*) FROM "{name}"').fetchone()
            assert published == conn.execute(f"SELECT count(*) FROM marts.{name}").fetchone(), name
            assert (data_dir / "marts" / f"{name}.parquet").exists(), name
        assert snapshot.execute("SELECT count(*) FROM customer_profile").fetchone() == (41,)
