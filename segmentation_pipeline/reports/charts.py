"""The report's charts as geometry: coordinates and labels the SVG macros of templates/charts.svg.j2 draw.

Every number that reaches the markup is formatted here (coordinates to one decimal where the chart
needs it), so the templates hold markup only and every label goes through autoescaping.
"""

from __future__ import annotations

import math

from segmentation_pipeline.models.money import format_money

PALETTE = ["#2f6690", "#d1495b", "#edae49", "#66a182", "#8d6a9f", "#00798c", "#c27c0e", "#4f5d75", "#a3a380"]
DASH = "\u2014"


def money(x: float | None, currency: str) -> str:
    return DASH if x is None else format_money(x, currency, whole=True)


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def bar_pairs(labels: list[str], first: list[float], second: list[float], legend: tuple[str, str]) -> dict:
    """Horizontal paired bars (e.g. customer share vs revenue share), values in 0..1."""
    row, left, width = 34, 300, 420
    top = max([*first, *second, 0.01])
    rows = []
    for i, label in enumerate(labels):
        y = 24 + i * row
        bars = []
        for j, (value, fill) in enumerate(((first[i], PALETTE[0]), (second[i], PALETTE[2]))):
            w = max(value, 0) / top * width
            bars.append({"y": y + 3 + j * 13, "w": f"{w:.1f}", "fill": fill, "value": f"{value:.1%}",
                         "text_x": f"{left + w + 4:.1f}", "text_y": y + 13 + j * 13})  # fmt: skip
        rows.append({"label": label, "y": y + 17, "bars": bars})
    return {"width": left + width + 80, "height": 30 + row * len(labels), "left": left, "legend": legend,
            "colors": (PALETTE[0], PALETTE[2]), "rows": rows}  # fmt: skip


def line(points: list[tuple[int, float]], chosen: int | None, y_label: str) -> dict | None:
    """A small line chart of (k, score), the chosen k marked; None without points."""
    if not points:
        return None
    w, h, pad = 640, 220, 40
    xs = [p[0] for p in points]
    ys = [p[1] for p in points if p[1] is not None and math.isfinite(p[1])]
    lo, hi = min(ys, default=0.0), max(ys, default=1.0)
    hi = hi if hi > lo else lo + 1.0
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1

    def sx(x: float) -> str:
        return f"{pad + (x - x0) / (x1 - x0) * (w - 2 * pad):.1f}"

    def sy(y: float) -> str:
        return f"{h - pad - (y - lo) / (hi - lo) * (h - 2 * pad):.1f}"

    valid = [(x, y) for x, y in points if y is not None and math.isfinite(y)]
    return {
        "w": w, "h": h, "pad": pad, "axis_y": h - pad, "axis_x2": w - pad, "tick_y": h - pad + 16,
        "title": f"{y_label} ({lo:.2f} to {hi:.2f})", "color": PALETTE[0],
        "path": " ".join(f"{'M' if i == 0 else 'L'}{sx(x)},{sy(y)}" for i, (x, y) in enumerate(valid)),
        "points": [{"k": x, "cx": sx(x), "cy": sy(y), "r": 6 if x == chosen else 3,
                    "fill": PALETTE[1] if x == chosen else PALETTE[0], "score": f"{y:.3f}"} for x, y in valid],
        "x_label_x": w / 2, "x_label_y": h - 6,
    }  # fmt: skip


def heatmap(
    cells: dict[tuple[str, str], float], rows: list[str], cols: list[str], title: str, fmt: str
) -> dict:
    """A grid of cells shaded by value: rows on the left, columns at the top."""
    cw, ch, left, top = 70, 34, 150, 40
    peak = max([v for v in cells.values() if v is not None] + [1e-9])
    grid = []
    for i, r in enumerate(rows):
        line_cells = []
        for j, c in enumerate(cols):
            v = cells.get((r, c))
            shade = 0.0 if not v else 0.12 + 0.88 * v / peak
            line_cells.append({"col": c, "x": left + j * cw, "text_x": left + j * cw + cw / 2 - 1,
                               "opacity": f"{shade:.2f}", "text": fmt.format(v) if v else "",
                               "ink": "#fff" if shade > 0.55 else "#1d2733"})  # fmt: skip
        grid.append({"row": r, "y": top + i * ch, "text_y": top + i * ch + ch / 2 + 4, "cells": line_cells})
    return {"w": left + cw * len(cols) + 10, "h": top + ch * len(rows) + 10, "title": title, "left": left,
            "cell_w": cw - 2, "cell_h": ch - 2, "color": PALETTE[0], "label_y": top - 6,
            "cols": [{"x": left + j * cw + cw / 2, "name": c} for j, c in enumerate(cols)], "rows": grid}  # fmt: skip


def log_edges(top: float, bins: int) -> list[float]:
    """Bin edges from 0 to `top`, evenly spaced on log10(1 + x): small values keep their detail and
    the long tail of big customers still fits."""
    span = math.log10(1 + top)
    return [10 ** (span * i / bins) - 1 for i in range(bins + 1)]


def histogram(values: list[float], currency: str, bins: int = 24, label: str = "", x_label: str = "",
              y_label: str = "customers") -> dict | None:  # fmt: skip
    """Histogram of values on log-spaced bins (0 to the maximum), with labelled axes; values below 0
    are counted in their own bar at the left. None without values."""
    if not values:
        return None
    top = max(max(values), 1.0)
    edges = log_edges(top, bins)
    negative = sum(v < 0 for v in values)
    counts = [0] * bins
    for v in values:
        if v >= 0:
            counts[next((i for i in range(bins) if v <= edges[i + 1]), bins - 1)] += 1
    bars = ([("< 0", negative)] if negative else []) + [
        (f"{money(edges[i], currency)} to {money(edges[i + 1], currency)}", c) for i, c in enumerate(counts)
    ]
    w, h, left, right, top_pad, bottom = 700, 260, 60, 20, 24, 56
    bw = (w - left - right) / len(bars)
    peak = max(c for _, c in bars) or 1
    plot_h = h - top_pad - bottom
    offset = 1 if negative else 0
    return {
        "w": w, "h": h, "left": left, "label": label, "base": h - bottom, "right": w - right, "top": top_pad,
        "bars": [{"x": f"{left + i * bw:.1f}", "y": f"{h - bottom - c / peak * plot_h:.1f}", "w": f"{bw - 1:.1f}",
                  "h": f"{c / peak * plot_h:.1f}", "fill": PALETTE[1] if name == "< 0" else PALETTE[3],
                  "title": f"{name}: {c:,} customers"} for i, (name, c) in enumerate(bars)],
        "y_ticks": [{"y": f"{h - bottom - frac * plot_h + 4:.1f}", "text": f"{round(frac * peak):,}"}
                    for frac in (0.0, 0.5, 1.0)],
        "x_ticks": [{"x": f"{left + (i + offset) * bw:.1f}", "text": money(edges[i], currency)}
                    for i in range(0, bins + 1, max(1, bins // 6))],
        "tick_y": h - bottom + 14, "x_label": x_label, "x_label_x": (left + w - right) / 2, "x_label_y": h - 12,
        "y_label": y_label, "y_label_y": top_pad + plot_h / 2,
    }  # fmt: skip
