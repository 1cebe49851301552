"""What a data scientist's notebook would do with the same landing files: the comparison of issue 15.

pandas + lifetimes + scikit-learn, written the way such a notebook usually is (no tuning):
  1. read every daily orders CSV of the landing zone and concatenate them;
  2. keep completed lines up to the analysis date; revenue = quantity x unit_price - discount;
  3. RFM: recency, frequency (orders), monetary per customer, quintile scores 1-5;
  4. BG/NBD (lifetimes' BetaGeoFitter) on the transaction summary, expected purchases in 52 weeks
     and P(alive);
  5. k-means (scikit-learn, k = 6) on the three standardised RFM columns.

It does far less than the pipeline (no validation or quarantine, no other source, no incremental
state, no CLV model choice, no personas, no marts): it is the floor a rewrite must beat, not a peer.
Run it with its own environment (requirements.txt) or the project's dev one:

    python benchmarks/pandas_notebook/notebook.py --data-dir .bench/data_100000 --as-of 2026-06-29

It prints one JSON line of counts (customers, orders, lines, segments), so a benchmark can check it
did the work.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import warnings

import pandas as pd
from lifetimes import BetaGeoFitter
from lifetimes.utils import summary_data_from_transaction_data
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="directory holding raw/orders/*.csv")
    parser.add_argument("--as-of", required=True, help="analysis date YYYY-MM-DD")
    parser.add_argument("--k", type=int, default=6)
    args = parser.parse_args()
    as_of = pd.Timestamp(args.as_of)

    # 1. Every daily file.
    files = sorted(glob.glob(os.path.join(args.data_dir, "raw", "orders", "orders_*.csv")))
    orders = pd.concat((pd.read_csv(f) for f in files), ignore_index=True)
    # Some shops' systems write an offset (+02:00): one UTC clock, then naive like the rest.
    orders["ordered_at"] = pd.to_datetime(orders["ordered_at"], utc=True, format="ISO8601").dt.tz_localize(
        None
    )

    # 2. Completed lines up to the analysis date.
    orders = orders[(orders["status"] == "completed") & (orders["ordered_at"] < as_of + pd.Timedelta(days=1))]
    orders = orders.assign(revenue=orders["quantity"] * orders["unit_price"] - orders["discount"].fillna(0))
    per_order = orders.groupby(["customer_id", "order_id"], as_index=False).agg(
        ordered_at=("ordered_at", "min"), revenue=("revenue", "sum")
    )

    # 3. RFM.
    rfm = per_order.groupby("customer_id").agg(
        last=("ordered_at", "max"), frequency=("order_id", "nunique"), monetary=("revenue", "sum")
    )
    rfm["recency"] = (as_of - rfm["last"]).dt.days
    rfm["r_score"] = pd.qcut(rfm["recency"].rank(method="first"), 5, labels=[5, 4, 3, 2, 1]).astype(int)
    rfm["f_score"] = pd.qcut(rfm["frequency"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(int)
    rfm["m_score"] = pd.qcut(rfm["monetary"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(int)
    rfm["rfm_score"] = rfm["r_score"].astype(str) + rfm["f_score"].astype(str) + rfm["m_score"].astype(str)

    # 4. BG/NBD.
    summary = summary_data_from_transaction_data(
        per_order,
        "customer_id",
        "ordered_at",
        monetary_value_col="revenue",
        observation_period_end=as_of,
        freq="W",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bgf = BetaGeoFitter(penalizer_coef=0.0)
        bgf.fit(summary["frequency"], summary["recency"], summary["T"])
        summary["expected_purchases_52w"] = bgf.conditional_expected_number_of_purchases_up_to_time(
            52, summary["frequency"], summary["recency"], summary["T"]
        )
        summary["p_alive"] = bgf.conditional_probability_alive(
            summary["frequency"], summary["recency"], summary["T"]
        )
    rfm = rfm.join(summary[["expected_purchases_52w", "p_alive"]])

    # 5. k-means on the three RFM columns.
    scaled = StandardScaler().fit_transform(rfm[["recency", "frequency", "monetary"]])
    rfm["segment"] = KMeans(n_clusters=args.k, n_init=10, random_state=0).fit_predict(scaled)

    print(json.dumps({
        "files": len(files), "lines": int(len(orders)), "orders": int(len(per_order)), "customers": int(len(rfm)),
        "segments": int(rfm["segment"].nunique()), "expected_purchases_52w": round(float(rfm["expected_purchases_52w"].sum()), 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
