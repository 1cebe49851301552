"""The persona report: one self-contained HTML file (inline CSS and SVG charts, no script, no network).

Sections: segment sizes and value, the choice of k, the RFM grid (R × F heat map), the CLV
distribution, segment profiles, migrations, and one card per persona (name, story in English and
French, traits, actions, ROI). This module reads the marts into a view (plain values, formatted);
the markup is templates/report.html.j2 and templates/charts.svg.j2, rendered by Jinja2 with
autoescaping (every value is text, never markup) and StrictUndefined (a missing value fails the
report instead of printing blank). The page is also well-formed XML so a test can parse it strictly.
"""

from __future__ import annotations

import math
from datetime import date

import jinja2
import polars as pl

from segmentation_pipeline.reports import charts
from segmentation_pipeline.reports.charts import DASH, money
from segmentation_pipeline.reports.report_words import WORDS


def _dash(value: object) -> object:
    """None (or NaN) shown as an em dash."""
    return DASH if value is None or (isinstance(value, float) and math.isnan(value)) else value


ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("segmentation_pipeline.reports", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
ENVIRONMENT.filters["dash"] = _dash


def _pct(x: float | None) -> str:
    return DASH if x is None else f"{x:.1%}"


def _multiple(roi: float | None) -> str | None:
    return None if roi is None else f"{roi:,.1f}\u00d7".replace("-", "\u2212")


def _sizes(rows: list[dict], currency: str, t: dict) -> dict:
    chart = charts.bar_pairs(
        [f"{r['segment_id']} · {r['persona_name']}" for r in rows],
        [r.get("customer_share") or 0.0 for r in rows],
        [r.get("revenue_share") or 0.0 for r in rows],
        t["shares"],
    )
    table = [
        [r["segment_id"], r["persona_name"], f"{r['customers']:,}", money(r.get("revenue"), currency),
         money(r.get("clv_12m_total"), currency), money(r.get("expected_cost_to_serve_12m"), currency),
         _multiple(r.get("roi")), r.get("service_priority"),
         f"{r['customers_cost_exceeds_value']:,}" if r.get("customers_cost_exceeds_value") is not None else None]
        for r in rows
    ]  # fmt: skip
    basis = (rows[0].get("value_basis") if rows else None) or "margin"
    if any(r.get("expected_cost_to_serve_12m") is not None for r in rows):
        note = t["size_rule"].format(basis=t["basis"].get(basis, basis))
    else:
        note = t["no_service"]
    return {"chart": chart, "rows": table, "note": note}


def _k(k_scores: dict[int, float], segments: pl.DataFrame) -> dict:
    chosen = segments.filter(pl.col("segment_id") != 0).height or None
    points = sorted((int(k), v) for k, v in (k_scores or {}).items())
    return {"chart": charts.line(points, chosen, "silhouette / null"), "chosen": chosen}


def _rfm(profile: pl.DataFrame, rfm_summary: pl.DataFrame | None, currency: str) -> dict:
    grid = None
    if {"r_score", "f_score"} <= set(profile.columns):
        counts = (
            profile.drop_nulls(["r_score", "f_score"])
            .group_by(pl.col("r_score").cast(pl.Int64), pl.col("f_score").cast(pl.Int64))
            .len()
        )
        cells = {
            (f"F {r['f_score']}", f"R {r['r_score']}"): float(r["len"]) for r in counts.iter_rows(named=True)
        }
        grid = charts.heatmap(
            cells,
            [f"F {f}" for f in range(5, 0, -1)],
            [f"R {r}" for r in range(1, 6)],
            "customers by recency score (R, 5 = most recent) and frequency score (F)",
            "{:,.0f}",
        )
    rows = []
    if rfm_summary is not None and rfm_summary.height:
        rows = [
            [r.get("rfm_segment"), f"{r.get('customers') or 0:,}", money(r.get("revenue"), currency),
             money(r.get("margin"), currency), _pct(r.get("share"))]
            for r in rfm_summary.sort("customers", descending=True).to_dicts()
        ]  # fmt: skip
    return {"grid": grid, "rows": rows}


def _clv(profile: pl.DataFrame, currency: str) -> dict | None:
    values = (
        profile.get_column("clv_12m").cast(pl.Float64).drop_nulls().drop_nans().to_list()
        if "clv_12m" in profile.columns
        else []
    )
    return charts.histogram(
        values,
        label=f"Expected value over the next 12 months (clv_12m) of {len(values):,} customers",
        currency=currency,
        x_label=f"clv_12m, next 12 months, in {currency} (log-spaced bins)",
        y_label="customers",
    )


PROFILE_COLUMNS = [  # (column of marts.segments, header, format)
    ("share_online", "online", "pct"),
    ("share_store", "store", "pct"),
    ("share_phone", "phone", "pct"),
    ("occasion_share", "occasion", "pct"),
    ("discount_share", "discount", "pct"),
    ("median_order_value", "median order value (to date)", "money"),
    ("median_frequency", "orders", "num"),
    ("median_recency_days", "recency (d)", "num"),
    ("late_payment_share", "late pay", "pct"),
    ("mean_service_effort_per_customer", "effort points per customer", "num"),
    ("median_age", "age", "num"),
    ("nps_score", "NPS", "num"),
]


def _profiles(rows: list[dict], columns: list[str], currency: str) -> dict:
    cols = [c for c in PROFILE_COLUMNS if c[0] in columns]

    def fmt(v: object, kind: str) -> str:
        if v is None:
            return DASH
        if kind == "pct":
            return f"{v:.0%}"
        if kind == "money":
            return money(v, currency)  # type: ignore[arg-type]
        return f"{v:,.0f}"

    return {
        "headers": ["persona", *[h for _, h, _ in cols]],
        "rows": [[r["persona_name"]] + [fmt(r.get(c), kind) for c, _, kind in cols] for r in rows],
        "numeric": tuple(range(1, len(cols) + 1)),
    }


def _migrations(migrations: pl.DataFrame | None, names: dict[int, str], currency: str) -> list[dict]:
    if migrations is None or migrations.height == 0:
        return []
    latest = migrations.filter(pl.col("as_of_date") == pl.col("as_of_date").max())
    kinds = []
    for kind, title in (("segment", "Behavioural segments"), ("rfm", "RFM segments")):
        rows = latest.filter(pl.col("kind") == kind) if "kind" in latest.columns else latest
        if rows.height == 0:
            continue
        if rows.filter(pl.col("from_segment").is_not_null()).height == 0:
            kinds.append({"title": title, "first_run": True})
            continue
        total = rows.get_column("customers").sum()
        stayed = rows.filter(pl.col("from_segment") == pl.col("to_segment")).get_column("customers").sum()
        moves = rows.filter(
            pl.col("from_segment").is_null()
            | pl.col("to_segment").is_null()
            | (pl.col("from_segment") != pl.col("to_segment"))
        ).sort("customers", descending=True)

        def label(v: str | None, kind: str = kind) -> str:
            if v is None:
                return "(none)"
            return f"{v} · {names[int(v)]}" if kind == "segment" and v.isdigit() and int(v) in names else v

        kinds.append({
            "title": title, "first_run": False, "stayed": f"{stayed:,}", "total": f"{total:,}",
            "stayed_share": f"{stayed / max(total, 1):.1%}",
            "rows": [[label(r["from_segment"]), label(r["to_segment"]), f"{r['customers']:,}",
                      money(r["revenue"], currency)] for r in moves.head(15).iter_rows(named=True)],
        })  # fmt: skip
    return kinds


def _claim_value(c: dict, key: str, currency: str) -> str:
    v = c.get(key)
    if v is None:
        return DASH
    if c["kind"] == "statistic":
        return money(v, currency)
    if c["kind"] == "size":
        return f"{v:,.0f}"
    if c["kind"] in ("mode", "mixture"):
        return f"{v:.0%}"
    return f"{v:,.2f}"


SURVEY_INSIGHTS = (  # (column of marts.segments, word)
    ("top_motivations", "motivations"),
    ("top_barriers", "barriers"),
    ("decision_factors", "factors"),
    ("discovery_channels", "discovery"),
    ("brand_perceptions", "perception"),
)


def _card(r: dict, i: int, currency: str, claims: list[dict], language: str, t: dict) -> dict:
    french = language == "fr"
    return {
        "color": charts.color(i),
        "name": r["persona_name"],
        "segment_id": r["segment_id"],
        "customers": f"{r['customers']:,}",
        "customer_share": _pct(r.get("customer_share")),
        "revenue_share": _pct(r.get("revenue_share")),
        "roi": _multiple(r.get("roi")) or "unknown",
        "priority": r.get("service_priority") or t["none"],
        "clv": money(r.get("avg_clv_12m"), currency),
        "narrative": r.get("narrative_fr" if french else "narrative_en"),
        "positioning": r.get("positioning_statement_fr" if french else "positioning_statement"),
        "evidence": [
            [
                c[f"text_{language}"],
                f"{c['support_share']:.0%} of {c['known_customers']:,}",
                _claim_value(c, "value", currency),
                _claim_value(c, "base_value", currency),
            ]
            for c in claims
        ],  # fmt: skip
        "traits": [x.strip() for x in (r.get("defining_traits") or "").split(";") if x.strip()],
        "actions": [a.strip() for a in (r.get("recommended_actions") or "").split("; ") if a.strip()],
        "survey": [(t[word], str(r[col]).replace("_", " ")) for col, word in SURVEY_INSIGHTS if r.get(col)],
        "respondents": r.get("survey_respondents") or 0,
    }


def _basis_note(segments: pl.DataFrame, profile: pl.DataFrame, currency: str, t: dict) -> str:
    """What the money and P(alive) rest on: said once, at the top, since every figure depends on it.

    Whole sentences from the phrasebook (`basis_note`): the currency, the value basis, P(alive)."""
    words = t["basis_note"]
    money_in = words["money"].format(currency=currency)
    if not segments.height:  # no segment: no customer, so no counted order to tell the basis or P(alive)
        return f"{money_in} {words['no_customers']}"
    basis = segments["value_basis"][0] if "value_basis" in segments.columns else None
    bases = set(profile["p_alive_basis"].drop_nulls()) if "p_alive_basis" in profile.columns else set()
    if bases - {"unknown"}:
        bases.discard("unknown")  # prospects have no P(alive); the buyers' basis is the one to state
    p_alive = [words.get(b, b) for b in sorted(bases)] or [words["unknown"]]
    return " ".join([money_in, words.get(basis or "", words["basis_unknown"]), *p_alive])


def render_persona_report(
    segments: pl.DataFrame,
    profile: pl.DataFrame,
    rfm_summary: pl.DataFrame | None,
    migrations: pl.DataFrame | None,
    k_scores: dict[int, float] | None,
    as_of: date,
    currency: str,
    claims: pl.DataFrame | None = None,
    language: str = "en",
    other_language_href: str | None = None,
) -> str:
    """The whole report as one HTML string (write it to a .html file; it needs no network).

    `language` (en, fr) picks the stories, positioning, evidence and the report's own words;
    `other_language_href` links the report in the other language."""
    t = WORDS[language]
    seg = segments.sort("segment_id")
    rows = seg.to_dicts()
    by_segment: dict[int, list[dict]] = {}
    if claims is not None:
        for c in claims.sort("segment_id", "sentence").iter_rows(named=True):
            by_segment.setdefault(c["segment_id"], []).append(c)
    customers = int(seg.get_column("customers").sum()) if seg.height else 0
    revenue = float(seg.get_column("revenue").sum()) if "revenue" in seg.columns and seg.height else 0.0
    names = {r["segment_id"]: r["persona_name"] for r in rows}
    return ENVIRONMENT.get_template("report.html.j2").render(
        t=t,
        language=language,
        as_of=as_of.isoformat(),
        other_language_href=other_language_href,
        kpis={"customers": f"{customers:,}", "segments": seg.height, "revenue": money(revenue, currency)},
        basis_note=_basis_note(seg, profile, currency, t),
        sizes=_sizes(rows, currency, t),
        cards=[
            _card(r, i, currency, by_segment.get(r["segment_id"], []), language, t)
            for i, r in enumerate(rows)
        ],
        profiles=_profiles(rows, seg.columns, currency),
        rfm=_rfm(profile, rfm_summary, currency),
        clv=_clv(profile, currency),
        migrations=_migrations(migrations, names, currency),
        k=_k(k_scores or {}, seg),
    )
