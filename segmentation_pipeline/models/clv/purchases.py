"""Purchase summaries for the CLV models: counted orders to distinct purchase days, and per customer
(x, t_x, T) with the mean value per repeat purchase, for a calibration period and its holdout."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

_EPOCH = date(1970, 1, 1)


def aggregate_purchases(
    order_days: pl.DataFrame, calibration_end: date, end: date, value_column: str = "margin"
) -> pl.DataFrame:
    """Per-customer purchase-day aggregates of orders up to `end`, split at `calibration_end`.

    `value_column` is the money the CLV is in (margin, or revenue when costs are unknown); it is
    called margin below.

    Columns: customer_id, first_date, last_cal/last_all, n_cal/n_all (purchase days),
    revenue_/margin_ cal/all (sums), first_revenue/first_margin (of the first purchase day).

    Done in NumPy on one int64 key (customer code * span + day): at 10M orders a Polars group_by
    on (customer_id, order_date) has nearly as many groups as rows and is slow, while sorting
    one integer key is fast and everything else is a bincount.
    """
    columns = ("customer_id", "order_date", "revenue", value_column)
    missing = set(columns) - set(order_days.columns)
    if missing:
        raise ValueError(f"order_days lacks column(s): {', '.join(sorted(missing))}")
    frame = order_days.select(*columns[:3], pl.col(value_column).alias("margin"))
    nulls = {c: n for c, n in zip(frame.columns, frame.null_count().row(0), strict=True) if n}
    if nulls:
        # The caller picks a value basis that is known for every counted order (features/value_basis.py).
        raise ValueError(
            f"order_days has nulls ({nulls}); the value column {value_column!r} must be known for every counted "
            "order: use revenue as the value basis when unit costs are missing"
        )
    day = frame["order_date"].cast(pl.Date).to_physical().to_numpy().astype(np.int64)
    keep = day <= (end - _EPOCH).days
    empty = {
        "customer_id": pl.String, "first_date": pl.Date, "last_cal": pl.Date, "last_all": pl.Date,
        "n_cal": pl.Int64, "n_all": pl.Int64, "revenue_cal": pl.Float64, "margin_cal": pl.Float64,
        "revenue_all": pl.Float64, "margin_all": pl.Float64, "first_revenue": pl.Float64,
        "first_margin": pl.Float64,
    }  # fmt: skip
    if not keep.any():
        return pl.DataFrame(schema=empty)
    code_all = _sorted_codes(frame["customer_id"])
    n = int(code_all.max()) + 1
    revenue = frame["revenue"].to_numpy().astype(np.float64)
    margin = frame["margin"].to_numpy().astype(np.float64)
    code = code_all
    if not keep.all():  # orders after `end` are ignored
        code, day, revenue, margin = code[keep], day[keep], revenue[keep], margin[keep]
    cal = (calibration_end - _EPOCH).days

    # Distinct (customer, day) pairs, sorted by customer then day.
    d0 = int(day.min())
    span = int(day.max()) - d0 + 1
    key = np.sort(code * span + (day - d0))
    key = key[np.r_[True, key[1:] != key[:-1]]]
    ucode = key // span
    uday = key - ucode * span + d0
    n_all = np.bincount(ucode, minlength=n)
    n_cal = np.bincount(ucode[uday <= cal], minlength=n)
    ends = np.cumsum(n_all)
    starts = ends - n_all
    present = np.flatnonzero(n_all)  # customers with an order up to `end`
    first = np.full(n, -1, dtype=np.int64)
    first[present] = uday[starts[present]]
    # Calibration days are a prefix of each customer's sorted days.
    last_cal = uday[np.maximum(starts + n_cal - 1, 0)]

    def sums(values: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        weights = values if rows is None else values * rows  # masking by multiplication: no gather
        return np.bincount(code, weights=weights, minlength=n)[present]

    in_cal = day <= cal
    on_first = day == first[code]
    position = np.empty(n, dtype=np.int64)
    position[code_all] = np.arange(len(code_all))  # any row of each customer, for its id

    def dates(values: np.ndarray) -> pl.Series:
        return pl.Series(values.astype(np.int32)).cast(pl.Date)

    return pl.DataFrame(
        {
            "customer_id": frame["customer_id"].gather(position[present]),
            "first_date": dates(first[present]),
            "last_cal": dates(last_cal[present]),
            "last_all": dates(uday[ends[present] - 1]),
            "n_cal": n_cal[present],
            "n_all": n_all[present],
            "revenue_cal": sums(revenue, in_cal),
            "margin_cal": sums(margin, in_cal),
            "revenue_all": sums(revenue),
            "margin_all": sums(margin),
            "first_revenue": sums(revenue, on_first),
            "first_margin": sums(margin, on_first),
        },
        schema=empty,
    ).with_columns(last_cal=pl.when(pl.col("n_cal") > 0).then(pl.col("last_cal")))


def _sorted_codes(ids: pl.Series) -> np.ndarray:
    """0-based code of each id in the sorted distinct ids (a dense rank).

    rank("dense") sorts every row. Sorting the distinct ids and casting to an Enum with them as
    categories (a hash lookup per row) gives the same codes several times faster.
    """
    if ids.dtype == pl.String:
        return ids.cast(pl.Enum(ids.unique().sort())).to_physical().to_numpy().astype(np.int64)
    return ids.rank("dense").to_numpy().astype(np.int64) - 1


def purchase_summary(
    agg: pl.DataFrame, end: date, suffix: str, time_unit_days: float, holdout: bool = False
) -> pl.DataFrame:
    """Per-customer (x, t_x, T) summary for the BTYD models as of `end`, from `aggregate_purchases`.

    suffix "cal" summarises the calibration period, "all" the whole history: one row per customer
    with a purchase in it, customer_id, x (repeat purchase days), t_x (last - first purchase),
    T (end - first purchase), both in `time_unit_days` units, mean_repeat_margin and
    mean_repeat_revenue (over repeat purchase days, null when x = 0) and, with `holdout`,
    x_holdout = purchase days after the calibration period.
    """
    n = pl.col(f"n_{suffix}")

    def units(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
        return (later - earlier).dt.total_days().cast(pl.Float64) / time_unit_days

    def repeat_mean(total: str, first: str) -> pl.Expr:
        return pl.when(n > 1).then((pl.col(total) - pl.col(first)) / (n - 1))

    columns = {
        "x": (n - 1).cast(pl.Int64),
        "t_x": units(pl.col(f"last_{suffix}"), pl.col("first_date")),
        "T": units(pl.lit(end), pl.col("first_date")),
        "mean_repeat_margin": repeat_mean(f"margin_{suffix}", "first_margin"),
        "mean_repeat_revenue": repeat_mean(f"revenue_{suffix}", "first_revenue"),
    }
    if holdout:
        columns["x_holdout"] = (pl.col("n_all") - n).cast(pl.Int64)
    return agg.filter(n > 0).select("customer_id", **columns)
