"""The persona report: one self-contained HTML file (inline CSS and SVG charts, no script, no network).

Sections: segment sizes and value, the choice of k, the RFM grid (R × F heat map), the CLV
distribution, segment profiles, migrations, and one card per persona (name, story in English and
French, traits, actions, ROI). The markup is also well-formed XML (void elements closed, entities
numeric) so a test can parse it strictly.
"""

from __future__ import annotations

import math
from datetime import date
from html import escape

import polars as pl

from segmentation_pipeline.models.money import format_money

PALETTE = ["#2f6690", "#d1495b", "#edae49", "#66a182", "#8d6a9f", "#00798c", "#c27c0e", "#4f5d75", "#a3a380"]

CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0; color: #1d2733; background: #f6f7f9; }
header { background: #1d3557; color: #fff; padding: 24px 40px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
main { padding: 8px 40px 40px; max-width: 1280px; }
section { background: #fff; border-radius: 8px; padding: 16px 24px; margin: 20px 0; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
h2 { font-size: 19px; margin: 4px 0 12px; color: #1d3557; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid #e3e6ea; padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f5; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.kpis { display: flex; gap: 28px; flex-wrap: wrap; margin-top: 10px; }
.kpi b { display: block; font-size: 22px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 16px; }
.card { border: 1px solid #e3e6ea; border-top: 6px solid var(--c); border-radius: 8px; padding: 12px 16px; background: #fff; }
.card h3 { margin: 0; font-size: 17px; }
.card .meta { color: #5b6777; font-size: 12px; margin: 2px 0 8px; }
.card p { font-size: 13.5px; line-height: 1.45; }
.card ul { padding-left: 18px; font-size: 13px; margin: 4px 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; background: #eef1f5; font-size: 12px; margin-right: 6px; }
.note { color: #5b6777; font-size: 12.5px; }
details summary { cursor: pointer; font-size: 13px; color: #1d3557; }
svg text { font-family: system-ui, sans-serif; }
"""


def _e(value: object) -> str:
    """Escaped text; None becomes an em dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "\u2014"
    return escape(str(value), quote=True)


def _money(x: float | None, currency: str) -> str:
    return "\u2014" if x is None else format_money(x, currency, whole=True)


def _pct(x: float | None) -> str:
    return "\u2014" if x is None else f"{x:.1%}"


def _color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _names(segments: pl.DataFrame) -> dict[int, str]:
    return {
        r["segment_id"]: r["persona_name"]
        for r in segments.select("segment_id", "persona_name").iter_rows(named=True)
    }


# --- charts ----------------------------------------------------------------------------------------


def bar_pairs_svg(labels: list[str], first: list[float], second: list[float], legend: tuple[str, str]) -> str:
    """Horizontal paired bars (e.g. customer share vs revenue share), values in 0..1."""
    row, left, width = 34, 300, 420
    height = 30 + row * len(labels)
    top = max([*first, *second, 0.01])
    parts = [f'<svg viewBox="0 0 {left + width + 80} {height}" width="100%" role="img">']
    parts.append(f'<rect x="{left}" y="4" width="12" height="10" fill="{PALETTE[0]}"/>')
    parts.append(f'<text x="{left + 16}" y="13" font-size="11">{_e(legend[0])}</text>')
    parts.append(f'<rect x="{left + 150}" y="4" width="12" height="10" fill="{PALETTE[2]}"/>')
    parts.append(f'<text x="{left + 166}" y="13" font-size="11">{_e(legend[1])}</text>')
    for i, label in enumerate(labels):
        y = 24 + i * row
        parts.append(f'<text x="{left - 8}" y="{y + 17}" font-size="12" text-anchor="end">{_e(label)}</text>')
        for j, (value, color) in enumerate(((first[i], PALETTE[0]), (second[i], PALETTE[2]))):
            w = max(value, 0) / top * width
            parts.append(
                f'<rect x="{left}" y="{y + 3 + j * 13}" width="{w:.1f}" height="12" fill="{color}">'
                f"<title>{_e(label)}: {value:.1%}</title></rect>"
            )
            parts.append(
                f'<text x="{left + w + 4:.1f}" y="{y + 13 + j * 13}" font-size="10">{value:.1%}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def line_svg(points: list[tuple[int, float]], chosen: int | None, y_label: str) -> str:
    """A small line chart of (k, score), the chosen k marked."""
    if not points:
        return '<p class="note">No k was searched (too few buyers, or the model was reused).</p>'
    w, h, pad = 640, 220, 40
    xs = [p[0] for p in points]
    ys = [p[1] for p in points if p[1] is not None and math.isfinite(p[1])]
    lo, hi = min(ys, default=0.0), max(ys, default=1.0)
    hi = hi if hi > lo else lo + 1.0
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1

    def sx(x: float) -> float:
        return pad + (x - x0) / (x1 - x0) * (w - 2 * pad)

    def sy(y: float) -> float:
        return h - pad - (y - lo) / (hi - lo) * (h - 2 * pad)

    valid = [(x, y) for x, y in points if y is not None and math.isfinite(y)]
    path = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for i, (x, y) in enumerate(valid))
    parts = [f'<svg viewBox="0 0 {w} {h}" width="100%" style="max-width:{w}px" role="img">']
    parts.append(f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#999"/>')
    parts.append(f'<text x="{pad}" y="14" font-size="11">{_e(y_label)} ({lo:.2f} to {hi:.2f})</text>')
    parts.append(f'<path d="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
    for x, y in valid:
        mark = x == chosen
        parts.append(
            f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="{6 if mark else 3}" '
            f'fill="{PALETTE[1] if mark else PALETTE[0]}"><title>k={x}: {y:.3f}</title></circle>'
        )
        parts.append(
            f'<text x="{sx(x):.1f}" y="{h - pad + 16}" font-size="10" text-anchor="middle">{x}</text>'
        )
    parts.append(
        f'<text x="{w / 2}" y="{h - 6}" font-size="11" text-anchor="middle">k (number of segments)</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def heatmap_svg(
    cells: dict[tuple[str, str], float], rows: list[str], cols: list[str], title: str, fmt: str
) -> str:
    """A grid of cells shaded by value: rows on the left, columns at the top."""
    cw, ch, left, top = 70, 34, 150, 40
    w, h = left + cw * len(cols) + 10, top + ch * len(rows) + 10
    peak = max([v for v in cells.values() if v is not None] + [1e-9])
    parts = [f'<svg viewBox="0 0 {w} {h}" width="100%" style="max-width:{w}px" role="img">']
    parts.append(f'<text x="4" y="14" font-size="11">{_e(title)}</text>')
    for j, c in enumerate(cols):
        parts.append(
            f'<text x="{left + j * cw + cw / 2}" y="{top - 6}" font-size="11" text-anchor="middle">{_e(c)}</text>'
        )
    for i, r in enumerate(rows):
        parts.append(
            f'<text x="{left - 6}" y="{top + i * ch + ch / 2 + 4}" font-size="11" text-anchor="end">{_e(r)}</text>'
        )
        for j, c in enumerate(cols):
            v = cells.get((r, c))
            shade = 0.0 if not v else 0.12 + 0.88 * v / peak
            text = fmt.format(v) if v else ""
            parts.append(
                f'<rect x="{left + j * cw}" y="{top + i * ch}" width="{cw - 2}" height="{ch - 2}" '
                f'fill="{PALETTE[0]}" fill-opacity="{shade:.2f}" stroke="#e3e6ea"><title>{_e(r)} / {_e(c)}: {_e(text)}</title></rect>'
            )
            color = "#fff" if shade > 0.55 else "#1d2733"
            parts.append(
                f'<text x="{left + j * cw + cw / 2 - 1}" y="{top + i * ch + ch / 2 + 4}" font-size="11" '
                f'text-anchor="middle" fill="{color}">{_e(text)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _log_edges(top: float, bins: int) -> list[float]:
    """Bin edges from 0 to `top`, evenly spaced on log10(1 + x): small values keep their detail and
    the long tail of big customers still fits."""
    span = math.log10(1 + top)
    return [10 ** (span * i / bins) - 1 for i in range(bins + 1)]


def histogram_svg(values: list[float], currency: str, bins: int = 24, label: str = "", x_label: str = "",
                  y_label: str = "customers") -> str:  # fmt: skip
    """Histogram of values on log-spaced bins (0 to the maximum), with labelled axes; values below 0
    are counted in their own bar at the left."""
    if not values:
        return '<p class="note">No values.</p>'
    top = max(max(values), 1.0)
    edges = _log_edges(top, bins)
    negative = sum(v < 0 for v in values)
    counts = [0] * bins
    for v in values:
        if v >= 0:
            counts[next((i for i in range(bins) if v <= edges[i + 1]), bins - 1)] += 1
    bars = ([("< 0", negative)] if negative else []) + [
        (f"{_money(edges[i], currency)} to {_money(edges[i + 1], currency)}", c) for i, c in enumerate(counts)
    ]
    w, h, left, right, top_pad, bottom = 700, 260, 60, 20, 24, 56
    bw = (w - left - right) / len(bars)
    peak = max(c for _, c in bars) or 1
    plot_h = h - top_pad - bottom
    parts = [f'<svg viewBox="0 0 {w} {h}" width="100%" style="max-width:{w}px" role="img">']
    parts.append(f'<text x="{left}" y="14" font-size="11">{_e(label)}</text>')
    for i, (name, c) in enumerate(bars):
        bh = c / peak * plot_h
        fill = PALETTE[1] if name == "< 0" else PALETTE[3]
        parts.append(
            f'<rect x="{left + i * bw:.1f}" y="{h - bottom - bh:.1f}" width="{bw - 1:.1f}" height="{bh:.1f}" '
            f'fill="{fill}"><title>{_e(name)}: {c:,} customers</title></rect>'
        )
    parts.append(f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="#999"/>')
    parts.append(f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{h - bottom}" stroke="#999"/>')
    for frac in (0.0, 0.5, 1.0):  # y ticks
        y = h - bottom - frac * plot_h
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{round(frac * peak):,}</text>'
        )
    offset = 1 if negative else 0
    for i in range(0, bins + 1, max(1, bins // 6)):  # x ticks at log-spaced edges
        x = left + (i + offset) * bw
        parts.append(
            f'<text x="{x:.1f}" y="{h - bottom + 14}" font-size="10" text-anchor="middle">{_e(_money(edges[i], currency))}</text>'
        )
    parts.append(
        f'<text x="{(left + w - right) / 2}" y="{h - 12}" font-size="11" text-anchor="middle">{_e(x_label)}</text>'
    )
    parts.append(
        f'<text x="14" y="{top_pad + plot_h / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 14 {top_pad + plot_h / 2})">{_e(y_label)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


# --- sections --------------------------------------------------------------------------------------


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(
        f'<th class="num">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _multiple(roi: float | None) -> str | None:
    return None if roi is None else f"{roi:,.1f}\u00d7".replace("-", "\u2212")


SIZE_HEADERS = {
    "en": ["segment", "persona", "customers", "revenue to date", "expected value, next 12 months",
           "expected cost to serve, next 12 months", "service ROI, 12 months (×)", "service priority",
           "customers costing more than they bring"],
    "fr": ["segment", "persona", "clients", "chiffre d'affaires à date", "valeur attendue, 12 prochains mois",
           "coût de service attendu, 12 prochains mois", "ROI du service, 12 mois (×)", "priorité de service",
           "clients qui coûtent plus qu'ils ne rapportent"],
}  # fmt: skip
SIZE_RULE = {
    "en": "Over the next 12 months, on the {basis} basis: expected value = Σ clv_12m; expected cost to serve = tickets "
    "per year (own history, at least a year of it) × mean effort score × cost per effort point; service ROI = "
    "(value − cost) / cost, a multiple of the cost (— when the segment filed no ticket or has no CLV). Service "
    "priority 1 is served first: segments in ROI order, nothing else.",
    "fr": "Sur les 12 prochains mois, en {basis} : valeur attendue = Σ clv_12m ; coût de service attendu = demandes "
    "par an (historique du client, au moins un an) × effort moyen × coût par point d'effort ; ROI du service = "
    "(valeur − coût) / coût, un multiple du coût (— sans demande au service client ni CLV). La priorité 1 est "
    "servie d'abord : les segments dans l'ordre de leur ROI, rien d'autre.",
}
NO_SERVICE = {
    "en": "No service data: cost to serve, ROI and service priority are unknown (—).",
    "fr": "Aucune donnée de service : coût de service, ROI et priorité inconnus (—).",
}
BASIS_WORDS = {
    "en": {"margin": "margin", "revenue": "revenue"},
    "fr": {"margin": "marge", "revenue": "chiffre d'affaires"},
}


def _sizes_section(segments: pl.DataFrame, currency: str, language: str = "en") -> str:
    rows = segments.sort("segment_id").to_dicts()
    shares = (
        ("share of customers", "share of revenue")
        if language == "en"
        else ("part des clients", "part du chiffre d'affaires")
    )
    chart = bar_pairs_svg(
        [f"{r['segment_id']} · {r['persona_name']}" for r in rows],
        [r.get("customer_share") or 0.0 for r in rows],
        [r.get("revenue_share") or 0.0 for r in rows],
        shares,
    )
    table = _table(
        SIZE_HEADERS[language],
        [
            [
                _e(r["segment_id"]),
                _e(r["persona_name"]),
                f"{r['customers']:,}",
                _money(r.get("revenue"), currency),
                _money(r.get("clv_12m_total"), currency),
                _money(r.get("expected_cost_to_serve_12m"), currency),
                _e(_multiple(r.get("roi"))),
                _e(r.get("service_priority")),
                _e(
                    f"{r['customers_cost_exceeds_value']:,}"
                    if r.get("customers_cost_exceeds_value") is not None
                    else None
                ),
            ]
            for r in rows
        ],
        numeric={2, 3, 4, 5, 6, 7, 8},
    )
    basis = (rows[0].get("value_basis") if rows else None) or "margin"
    if any(r.get("expected_cost_to_serve_12m") is not None for r in rows):
        rule = SIZE_RULE[language].format(basis=BASIS_WORDS[language].get(basis, basis))
    else:
        rule = NO_SERVICE[language]
    note = f'<p class="note">{_e(rule)}</p>'
    return f"<section><h2>Segments: size and value</h2>{chart}{table}{note}</section>"


def _k_section(k_scores: dict[int, float], segments: pl.DataFrame) -> str:
    chosen = segments.filter(pl.col("segment_id") != 0).height or None
    points = sorted((int(k), v) for k, v in (k_scores or {}).items())
    return (
        "<section><h2>Choice of the number of segments</h2>"
        + line_svg(points, chosen, "silhouette / null")
        + f'<p class="note">Silhouette per k on a sample, divided by the silhouette the same k reaches on copies of the '
        f"sample with every column shuffled (no segments); the red point is the k in use ({_e(chosen)} behavioural "
        "segments, plus segment 0 for prospects when there are any). A k whose smallest segment is under the "
        "minimum share is not eligible.</p></section>"
    )


def _rfm_section(profile: pl.DataFrame, rfm_summary: pl.DataFrame | None, currency: str) -> str:
    body = ""
    if {"r_score", "f_score"} <= set(profile.columns):
        grid = (
            profile.drop_nulls(["r_score", "f_score"])
            .group_by(pl.col("r_score").cast(pl.Int64), pl.col("f_score").cast(pl.Int64))
            .len()
        )
        cells = {
            (f"F {r['f_score']}", f"R {r['r_score']}"): float(r["len"]) for r in grid.iter_rows(named=True)
        }
        body += heatmap_svg(
            cells,
            [f"F {f}" for f in range(5, 0, -1)],
            [f"R {r}" for r in range(1, 6)],
            "customers by recency score (R, 5 = most recent) and frequency score (F)",
            "{:,.0f}",
        )
    else:
        body += '<p class="note">No RFM scores in the profile.</p>'
    if rfm_summary is not None and rfm_summary.height:
        rows = rfm_summary.sort("customers", descending=True).to_dicts()
        body += _table(
            ["RFM segment", "customers", "revenue to date", "margin to date", "share of customers"],
            [
                [
                    _e(r.get("rfm_segment")),
                    f"{r.get('customers') or 0:,}",
                    _money(r.get("revenue"), currency),
                    _money(r.get("margin"), currency),
                    _pct(r.get("share")),
                ]
                for r in rows
            ],
            numeric={1, 2, 3, 4},
        )
    return f"<section><h2>RFM grid</h2>{body}</section>"


def _clv_section(profile: pl.DataFrame, currency: str) -> str:
    values = (
        profile.get_column("clv_12m").cast(pl.Float64).drop_nulls().drop_nans().to_list()
        if "clv_12m" in profile.columns
        else []
    )
    if not values:
        body = '<p class="note">No 12-month CLV in this run (the CLV model was not fitted or was refused by its gate).</p>'
    else:
        body = histogram_svg(
            values,
            label=f"Expected value over the next 12 months (clv_12m) of {len(values):,} customers",
            currency=currency,
            x_label=f"clv_12m, next 12 months, in {currency} (log-spaced bins)",
            y_label="customers",
        )
    return f"<section><h2>CLV distribution</h2>{body}</section>"


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


def _profiles_section(segments: pl.DataFrame, currency: str) -> str:
    cols = [c for c in PROFILE_COLUMNS if c[0] in segments.columns]

    def fmt(v: object, kind: str) -> str:
        if v is None:
            return "\u2014"
        if kind == "pct":
            return f"{v:.0%}"
        if kind == "money":
            return _money(v, currency)  # type: ignore[arg-type]
        return f"{v:,.0f}"

    rows = [
        [_e(r["persona_name"])] + [fmt(r.get(c), kind) for c, _, kind in cols]
        for r in segments.sort("segment_id").to_dicts()
    ]
    table = _table(["persona", *[h for _, h, _ in cols]], rows, numeric=set(range(1, len(cols) + 1)))
    return f"<section><h2>Segment profiles</h2>{table}</section>"


def _migrations_section(migrations: pl.DataFrame | None, names: dict[int, str], currency: str) -> str:
    if migrations is None or migrations.height == 0:
        return '<section><h2>Migrations</h2><p class="note">No migrations yet.</p></section>'
    latest = migrations.filter(pl.col("as_of_date") == pl.col("as_of_date").max())
    parts = ["<section><h2>Migrations</h2>"]
    for kind, title in (("segment", "Behavioural segments"), ("rfm", "RFM segments")):
        rows = latest.filter(pl.col("kind") == kind) if "kind" in latest.columns else latest
        if rows.height == 0:
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

        parts.append(f"<h3>{_e(title)}</h3>")
        if rows.filter(pl.col("from_segment").is_not_null()).height == 0:
            parts.append('<p class="note">First run: no previous segments to compare with.</p>')
            continue
        parts.append(
            f'<p class="note">{stayed:,} of {total:,} customers stayed in the same segment ({stayed / max(total, 1):.1%}) '
            "since the previous run.</p>"
        )
        parts.append(
            _table(
                ["from", "to", "customers", "their revenue to date"],
                [
                    [
                        _e(label(r["from_segment"])),
                        _e(label(r["to_segment"])),
                        f"{r['customers']:,}",
                        _money(r["revenue"], currency),
                    ]
                    for r in moves.head(15).iter_rows(named=True)
                ],
                numeric={2, 3},
            )
        )
    parts.append("</section>")
    return "".join(parts)


LABELS = {  # the report's words per language (the stories come in both from marts.segments)
    "en": {
        "title": "Customer segments and personas", "date": "Analysis date", "customers": "customers",
        "segments": "segments", "revenue": "revenue to date (all history to {date})", "personas": "Personas",
        "segment": "segment", "of_revenue": "of revenue to date", "roi": "service ROI, next 12 months",
        "priority": "service priority", "none": "none", "clv": "mean CLV, next 12 months",
        "positioning": "Positioning.", "traits": "Defining traits", "actions": "Recommended actions",
        "survey": "Survey ({n} respondents)", "evidence": "Evidence: every sentence and the claim behind it",
        "sentence": "sentence", "holds": "holds for", "value": "segment", "base": "all customers",
        "other": "Version française", "other_file": "fr",
        "motivations": "Motivations", "barriers": "Barriers", "factors": "Decision factors (mean importance, 1-5)",
        "discovery": "Found us through", "perception": "Sees the brand as",
    },
    "fr": {
        "title": "Segments clients et personas", "date": "Date d'analyse", "customers": "clients",
        "segments": "segments", "revenue": "chiffre d'affaires à date (tout l'historique jusqu'au {date})",
        "personas": "Personas", "segment": "segment", "of_revenue": "du chiffre d'affaires à date",
        "roi": "ROI du service, 12 prochains mois", "priority": "priorité de service", "none": "aucune",
        "clv": "CLV moyenne, 12 prochains mois", "positioning": "Positionnement.", "traits": "Traits distinctifs",
        "actions": "Actions recommandées (en anglais)", "survey": "Enquête ({n} répondants)",
        "evidence": "Preuves : chaque phrase et l'affirmation qui la fonde", "sentence": "phrase",
        "holds": "vraie pour", "value": "segment", "base": "tous les clients", "other": "English version",
        "other_file": "en", "motivations": "Motivations", "barriers": "Freins",
        "factors": "Facteurs de décision (importance moyenne, 1-5)", "discovery": "Nous a connus par",
        "perception": "Perçoit la marque comme",
    },
}  # fmt: skip


def _claim_value(c: dict, key: str, currency: str) -> str:
    v = c.get(key)
    if v is None:
        return "\u2014"
    if c["kind"] == "statistic":
        return _money(v, currency)
    if c["kind"] == "size":
        return f"{v:,.0f}"
    if c["kind"] in ("mode", "mixture"):
        return f"{v:.0%}"
    return f"{v:,.2f}"


def _evidence(claims: list[dict], language: str, currency: str) -> str:
    if not claims:
        return ""
    t = LABELS[language]
    rows = [
        [_e(c[f"text_{language}"]), f"{c['support_share']:.0%} of {c['known_customers']:,}",
         _claim_value(c, "value", currency), _claim_value(c, "base_value", currency)]
        for c in claims
    ]  # fmt: skip
    table = _table([t["sentence"], t["holds"], t["value"], t["base"]], rows, numeric={1, 2, 3})
    return f"<details><summary>{_e(t['evidence'])}</summary>{table}</details>"


def _card(r: dict, i: int, currency: str, claims: list[dict] | None = None, language: str = "en") -> str:
    t = LABELS[language]
    traits = [x.strip() for x in (r.get("defining_traits") or "").split(";") if x.strip()]
    actions = [a.strip() for a in (r.get("recommended_actions") or "").split("; ") if a.strip()]
    roi = _multiple(r.get("roi")) or "unknown"
    survey = [
        (t[label], r.get(col))
        for col, label in (
            ("top_motivations", "motivations"),
            ("top_barriers", "barriers"),
            ("decision_factors", "factors"),
            ("discovery_channels", "discovery"),
            ("brand_perceptions", "perception"),
        )
        if r.get(col)
    ]
    narrative = r.get("narrative_fr") if language == "fr" else r.get("narrative_en")
    positioning = r.get("positioning_statement_fr") if language == "fr" else r.get("positioning_statement")
    return (
        f'<article class="card" style="--c:{_color(i)}" lang="{language}">'
        f"<h3>{_e(r['persona_name'])}</h3>"
        f'<div class="meta">{t["segment"]} {_e(r["segment_id"])} · {r["customers"]:,} {t["customers"]} '
        f"({_pct(r.get('customer_share'))}) · {_pct(r.get('revenue_share'))} {_e(t['of_revenue'])}</div>"
        f'<span class="badge">{_e(t["roi"])}: {_e(roi)}</span>'
        f'<span class="badge">{_e(t["priority"])}: {_e(r.get("service_priority") or t["none"])}</span>'
        f'<span class="badge">{_e(t["clv"])}: {_money(r.get("avg_clv_12m"), currency)}</span>'
        f"<p>{_e(narrative)}</p>"
        + _evidence(claims or [], language, currency)
        + f"<p><b>{_e(t['positioning'])}</b> {_e(positioning)}</p>"
        f"<b>{_e(t['traits'])}</b><ul>" + "".join(f"<li>{_e(x)}</li>" for x in traits) + "</ul>"
        f"<b>{_e(t['actions'])}</b><ul>"
        + "".join(f"<li>{_e(a)}</li>" for a in actions)
        + "</ul>"
        + (
            f"<b>{_e(t['survey'].format(n=r.get('survey_respondents') or 0))}</b><ul>"
            + "".join(f"<li>{_e(label)}: {_e(str(v).replace('_', ' '))}</li>" for label, v in survey)
            + "</ul>"
            if survey
            else ""
        )
        + "</article>"
    )


def _basis_note(segments: pl.DataFrame, profile: pl.DataFrame, currency: str) -> str:
    """What the money and P(alive) rest on: said once, at the top, since every figure depends on it."""
    basis = segments["value_basis"][0] if "value_basis" in segments.columns and segments.height else None
    value = {
        "margin": "value is margin (unit costs known for every counted order)",
        "revenue": "value is revenue: unit costs are not known for every counted order, so margin, ROI and CLV "
        "are on revenue",
    }.get(basis or "", "value basis unknown")
    p_alive = {
        "model": "P(alive) from the purchase model",
        "model_without_dropout": "the purchase model found no dropout: P(alive) is ~1 by construction and says "
        "nothing about who is still active (read days_overdue in the profile instead)",
        "unknown": "no P(alive): the CLV model was not fitted this run",
    }
    bases = set(profile["p_alive_basis"].drop_nulls()) if "p_alive_basis" in profile.columns else set()
    if bases - {"unknown"}:
        bases.discard("unknown")  # prospects have no P(alive); the buyers' basis is the one to state
    p_alive_txt = "; ".join(p_alive.get(b, b) for b in sorted(bases)) or "no P(alive)"
    return f'<p class="note">Money in {_e(currency)}; {_e(value)}. {_e(p_alive_txt)}.</p>'


TITLES_FR = {
    "Segments: size and value": "Segments : taille et valeur",
    "Choice of the number of segments": "Choix du nombre de segments",
    "RFM grid": "Grille RFM",
    "CLV distribution": "Distribution de la CLV (12 prochains mois)",
    "Segment profiles": "Profils des segments",
    "Migrations": "Migrations",
}


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
    t = LABELS[language]
    seg = segments.sort("segment_id")
    by_segment: dict[int, list[dict]] = {}
    if claims is not None:
        for c in claims.sort("segment_id", "sentence").iter_rows(named=True):
            by_segment.setdefault(c["segment_id"], []).append(c)
    customers = int(seg.get_column("customers").sum()) if seg.height else 0
    revenue = float(seg.get_column("revenue").sum()) if "revenue" in seg.columns and seg.height else 0.0
    kpis = (
        '<div class="kpis">'
        f'<div class="kpi"><b>{customers:,}</b>{t["customers"]}</div>'
        f'<div class="kpi"><b>{seg.height}</b>{t["segments"]}</div>'
        f'<div class="kpi"><b>{_money(revenue, currency)}</b>{_e(t["revenue"].format(date=as_of.isoformat()))}</div>'
        "</div>"
    )
    cards = "".join(
        _card(r, i, currency, by_segment.get(r["segment_id"]), language) for i, r in enumerate(seg.to_dicts())
    )
    switch = (
        f' · <a href="{_e(other_language_href)}" style="color:#fff">{_e(t["other"])}</a>'
        if other_language_href
        else ""
    )
    body = (
        f"<header><h1>{_e(t['title'])}</h1><div>{_e(t['date'])} {_e(as_of.isoformat())}{switch}</div>{kpis}"
        f"{_basis_note(seg, profile, currency)}</header>"
        "<main>"
        + _sizes_section(seg, currency, language)
        + f'<section><h2>{_e(t["personas"])}</h2><div class="cards">{cards}</div></section>'
        + _profiles_section(seg, currency=currency)
        + _rfm_section(profile, rfm_summary, currency=currency)
        + _clv_section(profile, currency=currency)
        + _migrations_section(migrations, _names(seg), currency=currency)
        + _k_section(k_scores or {}, seg)
        + "</main>"
    )
    if language == "fr":
        for english, french in TITLES_FR.items():
            body = body.replace(f"<h2>{english}</h2>", f"<h2>{french}</h2>")
    return (
        f'<!DOCTYPE html>\n<html lang="{language}"><head>'
        '<meta charset="utf-8"/>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>'
        f"<title>Segments and personas, {_e(as_of.isoformat())}</title>"
        f"<style>{CSS}</style></head><body>{body}</body></html>\n"
    )
