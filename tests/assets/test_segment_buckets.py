"""The DuckLake split of the segment assignment (defs/segment_buckets.py) gives the one-step asset's table and
decision in every case: first fit, reuse, drift found at the commit, a lost model (ids by overlap).

Run here on copies of the shared shop's DuckDB file (the steps run one after the other in this process);
tests/end_to_end/test_ducklake.py runs it on a real lake, in parallel processes, on the first two cases.
"""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from segmentation_pipeline.defs.segment_buckets import partitioned_customer_segments
from segmentation_pipeline.defs.segments import customer_segments
from tests.assets.rows import materialize
from tests.conftest import failure_messages

BUCKETS = 3


def _first_fit(conn) -> None:
    conn.execute("DROP TABLE models.customer_segments")
    conn.execute("DELETE FROM models.segment_model_state")


def _lost_model(conn) -> None:
    conn.execute("DELETE FROM models.segment_model_state")


def _drift(conn) -> None:
    # The stored model says its buyers sat ten times closer to their centroids: today's distances drift.
    [(as_of, model_json)] = conn.execute(
        "SELECT as_of_date, model_json FROM models.segment_model_state"
    ).fetchall()
    model = json.loads(model_json)
    model["fit_mean_distance"] /= 10
    conn.execute(
        "UPDATE models.segment_model_state SET model_json = ? WHERE as_of_date = ?",
        [json.dumps(model), as_of],
    )


def _as_is(conn) -> None:
    pass


def _run(shop_dir, tmp_path, name: str, prepare, asset) -> tuple[list, tuple]:
    data_dir = tmp_path / name
    data_dir.mkdir()
    shutil.copy(shop_dir / "warehouse.duckdb", data_dir / "warehouse.duckdb")
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as conn:
        prepare(conn)
    result = materialize([asset], data_dir)
    assert result.success, failure_messages(result)
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as conn:
        segments = conn.execute("SELECT * FROM models.customer_segments ORDER BY customer_id").fetchall()
        state = conn.execute(
            "SELECT k, refitted, reason, ari_vs_previous, model_json FROM models.segment_model_state"
        ).fetchall()
        leftovers = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'customer_segments__next' "
            "OR table_name = 'segment_bucket_usage'"
        ).fetchall()
    assert leftovers == [], "the commit leaves no staged table behind"
    [(k, refitted, reason, ari, model_json)] = state
    model = json.loads(model_json)
    return segments, (k, refitted, reason, ari, model["segment_ids"], model["next_id"], model["centroids"])


@pytest.mark.parametrize(
    "case", [_first_fit, _as_is, _drift, _lost_model], ids=lambda f: f.__name__.strip("_")
)
def test_the_bucketed_assignment_is_the_one_step_one(shop_dir, tmp_path, case):
    one_step = _run(shop_dir, tmp_path, "one_step", case, customer_segments)
    bucketed = _run(shop_dir, tmp_path, "bucketed", case, partitioned_customer_segments(BUCKETS))
    assert bucketed[0] == one_step[0]
    k, refitted, reason, ari, *model = bucketed[1]
    assert (k, refitted, reason, *model) == (one_step[1][0], one_step[1][1], one_step[1][2], *one_step[1][4:])
    assert ari == pytest.approx(one_step[1][3], rel=1e-12) if ari is not None else one_step[1][3] is None
    expected = {"first_fit": "first fit", "as_is": "reused", "drift": "drift", "lost_model": "first fit"}
    assert expected[case.__name__.strip("_")] in reason
