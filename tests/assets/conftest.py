"""The hand-written shop, materialised once per test session and read by several asset test files."""

from __future__ import annotations

import dagster as dg
import pytest
from filelock import FileLock

from segmentation_pipeline.definitions import ASSET_MODULES
from segmentation_pipeline.defs import staging
from tests.assets.rows import materialize, stage_shop
from tests.conftest import failure_messages


def build_shop(data_dir):
    stage_shop(data_dir / "warehouse.duckdb")
    modules = [m for m in ASSET_MODULES if m is not staging]
    result = materialize(
        [*dg.load_assets_from_modules(modules), *dg.load_asset_checks_from_modules(modules)], data_dir
    )
    assert result.success, failure_messages(result)
    (data_dir / "built").touch()


@pytest.fixture(scope="session")
def shop_dir(tmp_path_factory, worker_id):
    """The data dir of `stage_shop` after one run of every asset after staging (report and
    snapshot included). Tests only read it. The pytest-xdist workers of a session share one
    build (a file lock; the session's temporary root is theirs alone): each would take seconds."""
    if worker_id == "master":
        data_dir = tmp_path_factory.mktemp("shop")
        build_shop(data_dir)
        return data_dir
    root = tmp_path_factory.getbasetemp().parent
    data_dir = root / "shop"
    with FileLock(str(root / "shop.lock")):
        if not (data_dir / "built").exists():
            data_dir.mkdir(exist_ok=True)
            build_shop(data_dir)
    return data_dir
