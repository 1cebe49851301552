"""Every asset, check, job, schedule and sensor resolves, with the documentation BI and operators rely on."""

from __future__ import annotations

import dagster as dg
import pytest

from segmentation_pipeline.definitions import JOB_NAME, build_definitions, defs, resources, warehouse_resource
from segmentation_pipeline.defs.resources import ANALYSIS_DATE_TAG, PipelineSettings, run_tags
from segmentation_pipeline.settings import Settings, SettingsError
from segmentation_pipeline.stages import StageConfigs

SPEC_MARTS = {
    "customer_profile", "segments", "rfm_segments", "segment_history", "segment_migrations", "clv_model_params",
    "data_quality",
}  # fmt: skip


def test_definitions_load_and_resolve():
    repository = defs.get_repository_def()
    keys = {key.to_user_string() for key in repository.assets_defs_by_key}
    assert {
        f"staging/{s}" for s in ("customers", "products", "orders", "surveys", "social", "service")
    } <= keys
    assert {f"marts/{m}" for m in SPEC_MARTS} <= keys
    assert "publication/marts_snapshot" in keys
    job = defs.resolve_job_def(JOB_NAME)
    assert job.executor_def.name == "in_process"
    schedule = defs.get_schedule_def("daily_segmentation_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 * * *", "Europe/Paris")
    assert defs.get_sensor_def("landing_file_sensor").job_name == JOB_NAME
    checks = {key.name for key in repository.asset_graph.asset_check_keys}
    assert {
        "rejected_share_below_threshold",
        "rfm_scores_are_complete",
        "customer_profile_is_complete",
    } <= checks


def test_every_asset_is_described_and_grouped():
    for spec in defs.resolve_all_asset_specs():
        assert spec.description, spec.key
        # The group is the key's prefix is the DuckDB schema: `marts/segments` is table marts.segments.
        assert spec.group_name == spec.key.path[0], spec.key
        assert spec.group_name in {"staging", "features", "models", "marts", "reports", "publication"}, (
            spec.key
        )
        assert spec.kinds, spec.key


def test_sensor_requests_a_run_for_new_files_only(tmp_path):
    raw = tmp_path / "raw" / "orders"
    raw.mkdir(parents=True)
    definitions = build_definitions(Settings(data_dir=tmp_path, settle_seconds=0))
    sensor = definitions.get_sensor_def("landing_file_sensor")
    with dg.build_sensor_context() as context:
        assert isinstance(sensor(context), dg.SkipReason)
    (raw / "orders_2025-01-01.csv").write_text("order_id\n")
    with dg.build_sensor_context() as context:
        result = sensor(context)
        assert isinstance(result, dg.RunRequest)
        cursor = context.cursor
    with dg.build_sensor_context(cursor=cursor) as context:
        assert isinstance(sensor(context), dg.SkipReason)


def test_every_written_table_has_a_blocking_contract_check():
    from segmentation_pipeline.contracts.tables import WRITTEN_TABLES

    repository = defs.get_repository_def()
    checks = {(key.asset_key.to_user_string(), key.name) for key in repository.asset_graph.asset_check_keys}
    for table in WRITTEN_TABLES:
        assert (table.replace(".", "/"), "matches_contract") in checks, table
    specs = {
        spec.key: spec
        for assets_def in repository.assets_defs_by_key.values()
        for spec in assets_def.check_specs
        if spec.name == "matches_contract"
    }
    assert len(specs) == len(WRITTEN_TABLES) and all(spec.blocking for spec in specs.values())


def test_ducklake_mode_runs_the_steps_in_parallel_processes(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGMENTATION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SEGMENTATION_WAREHOUSE", "ducklake")
    monkeypatch.setenv("SEGMENTATION_DUCKLAKE_CATALOG", "postgresql://etl@db.internal:5432/lake")
    monkeypatch.setenv("SEGMENTATION_WORKERS", "3")
    settings = Settings.from_env()
    definitions = build_definitions(settings)
    job = definitions.resolve_job_def(JOB_NAME)
    # the multiprocess executor, run under the lake's run lock (defs/executors.py)
    assert job.executor_def.name == "multiprocess_under_lake_lock"
    warehouse = warehouse_resource(settings)
    assert (warehouse.catalog, warehouse.data_path) == (
        settings.ducklake_catalog,
        f"{tmp_path.resolve()}/lake/",
    )


def test_ducklake_mode_splits_the_per_customer_stages_into_bucket_steps(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGMENTATION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SEGMENTATION_DUCKLAKE_CATALOG", "postgresql://etl@db.internal:5432/lake")
    monkeypatch.setenv("SEGMENTATION_CUSTOMER_PARTITIONS", "4")

    def graph(warehouse: str) -> tuple[set[str], set, set]:
        """The job's steps (op handles), asset keys and check keys in one warehouse mode."""
        monkeypatch.setenv("SEGMENTATION_WAREHOUSE", warehouse)
        definitions = build_definitions(Settings.from_env())
        job = definitions.resolve_job_def(JOB_NAME)
        assets = definitions.get_repository_def().asset_graph
        return (
            {str(h) for h in job.graph.iterate_node_handles()},
            assets.get_all_asset_keys(),
            assets.asset_check_keys,
        )

    lake, file = graph("ducklake"), graph("duckdb")
    stages = (
        ("customer_feature_tables",) * 2,
        ("clv_models",) * 2,
        ("customer_segments", "models__customer_segments"),
        ("customer_profile", "marts__customer_profile"),
    )
    for stage, one_step in stages:
        assert {f"{stage}.prepare", f"{stage}.commit"} | {f"{stage}.bucket_{i}" for i in range(4)} <= lake[0]
        assert one_step in file[0] and not any(step.startswith(f"{stage}.") for step in file[0]), (
            "one step on the file"
        )
    assert lake[1:] == file[1:], "the same assets and checks in both modes: only the steps differ"


@pytest.mark.parametrize(
    ("variables", "message"),
    [({"SEGMENTATION_WAREHOUSE": "ducklake"}, "SEGMENTATION_DUCKLAKE_CATALOG=''"),
     ({"SEGMENTATION_WAREHOUSE": "ducklake", "SEGMENTATION_DUCKLAKE_CATALOG": "lake.sqlite"}, "postgresql://USER"),
     ({"SEGMENTATION_WAREHOUSE": "iceberg"}, "one of duckdb, ducklake"),
     ({"SEGMENTATION_WORKERS": "0"}, "SEGMENTATION_WORKERS=0"),
     ({"SEGMENTATION_WAREHOUSE": "ducklake", "SEGMENTATION_DUCKLAKE_CATALOG": "postgresql://h/db",
       "SEGMENTATION_DUCKLAKE_DATA_PATH": "gs://bucket/lake/"}, "s3://BUCKET/PREFIX/")],
)  # fmt: skip
def test_warehouse_settings_are_checked_naming_the_variable(monkeypatch, variables, message):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as error:
        Settings.from_env()
    assert message in str(error.value)


def test_each_stage_config_is_made_from_the_settings():
    settings = Settings(
        holdout_days=30, annual_discount_rate=0.2, cost_per_effort_point=3.5, brand="Acme", currency="USD",
        claim_support=0.7,
    )  # fmt: skip
    stages = StageConfigs.from_settings(settings)
    assert (stages.clv.holdout_days, stages.clv.annual_discount_rate) == (30, 0.2)
    assert stages.economics.cost_per_effort_point == 3.5
    assert (stages.personas.brand, stages.personas.currency, stages.personas.claim_support) == (
        "Acme",
        "USD",
        0.7,
    )
    on_revenue = stages.for_basis("revenue")
    assert on_revenue.economics.value_basis == on_revenue.personas.value_basis == "revenue"


def test_a_bad_setting_fails_as_the_definitions_load(monkeypatch):
    # What importing definitions.py does (`dagster dev`, `dg check defs`): before any run.
    monkeypatch.setenv("SEGMENTATION_HOLDOUT_DAYS", "0")
    with pytest.raises(SettingsError, match="SEGMENTATION_HOLDOUT_DAYS=0"):
        build_definitions(Settings.from_env())


@dg.asset
def stage_probe(stages: dg.ResourceParam[StageConfigs]) -> dg.MaterializeResult:
    """What the stages see: the config values the settings set."""
    return dg.MaterializeResult(
        metadata={
            "claim_support": stages.personas.claim_support,
            "cost_per_effort_point": stages.economics.cost_per_effort_point,
        }
    )


def test_a_setting_changed_in_the_run_config_reaches_the_stage_configs(tmp_path):
    definitions_resources = resources(Settings(data_dir=tmp_path, settle_seconds=0))
    # As the Launchpad sends it: the `settings` resource's config, one setting changed.
    run_config = {"resources": {"settings": {"config": {"claim_support": 0.8}}}}
    result = dg.materialize([stage_probe], resources=definitions_resources, run_config=run_config)
    [materialization] = result.asset_materializations_for_node("stage_probe")
    assert materialization.metadata["claim_support"].value == 0.8
    assert materialization.metadata["cost_per_effort_point"].value == 2.0  # the others as loaded


def test_a_bad_setting_in_the_run_config_fails_the_run_before_any_step(tmp_path):
    definitions_resources = resources(Settings(data_dir=tmp_path, settle_seconds=0))
    run_config = {"resources": {"settings": {"config": {"claim_support": 1.5}}}}
    result = dg.materialize(
        [stage_probe], resources=definitions_resources, run_config=run_config, raise_on_error=False
    )
    assert not result.success
    assert not [e for e in result.all_events if e.event_type_value == "STEP_START"]
    [failure] = [e for e in result.all_events if e.event_type_value == "RESOURCE_INIT_FAILURE"]
    error = failure.event_specific_data.error
    assert error.cls_name == "SettingsError"
    assert (
        "SEGMENTATION_CLAIM_SUPPORT=1.5 is not a valid value: expected a number between 0 and 1"
        in error.message
    )


def _date_probes(raw):
    @dg.asset
    def first(settings: PipelineSettings) -> dg.MaterializeResult:
        # A file landing mid-run, dated after every other: it must not move this run's date.
        (raw / "orders_2025-03-01.csv").write_text("order_id\n")
        return dg.MaterializeResult(metadata={"as_of": settings.analysis_date().isoformat()})

    @dg.asset(deps=[first])
    def second(settings: PipelineSettings) -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"as_of": settings.analysis_date().isoformat()})

    return [first, second]


@pytest.mark.parametrize("tags", [{}, {ANALYSIS_DATE_TAG: "2025-01-15"}])
def test_the_analysis_date_is_resolved_once_per_run_and_read_from_the_run_tag(tmp_path, tags):
    raw = tmp_path / "raw" / "orders"
    raw.mkdir(parents=True)
    (raw / "orders_2025-02-01.csv").write_text("order_id\n")
    settings = PipelineSettings.from_settings(Settings(data_dir=tmp_path, settle_seconds=0))
    result = dg.materialize(_date_probes(raw), resources={"settings": settings}, tags=tags)
    dates = {
        e.asset_key.to_user_string(): e.materialization.metadata["as_of"].value
        for e in result.get_asset_materialization_events()
    }
    expected = tags.get(ANALYSIS_DATE_TAG, "2025-02-01")
    assert dates == {"first": expected, "second": expected}
    # The schedule records the date it resolved on the run it requests.
    assert run_tags(Settings(data_dir=tmp_path))[ANALYSIS_DATE_TAG] == "2025-03-01"


# Load-time settings (data_dir, warehouse, ducklake_*, duckdb_memory_limit, lock_wait_seconds,
# workers) chose the warehouse and the executor as the definitions loaded: a run cannot change them.
LOAD_TIME_CHANGES = [
    ("data_dir", "elsewhere", "SEGMENTATION_DATA_DIR"),
    ("duckdb_memory_limit", "4GB", "SEGMENTATION_DUCKDB_MEMORY_LIMIT"),
    ("lock_wait_seconds", 5.0, "SEGMENTATION_LOCK_WAIT_SECONDS"),
    ("workers", 4, "SEGMENTATION_WORKERS"),
    ("ducklake_data_path", "s3://bucket/lake/", "SEGMENTATION_DUCKLAKE_DATA_PATH"),
]


def _orders_landed(data_dir):
    from tests.conftest import ORDER_HEADER, write_landing

    line = "o1,1,c1,2025-01-01T10:00:00,online,p1,1,10.0,0,completed,none,0"
    write_landing(data_dir / "raw", "orders", "2025-01-01", f"{ORDER_HEADER}\n{line}\n")
    return Settings(data_dir=data_dir, settle_seconds=0)


def _run_orders_load(settings, run_config):
    """The real daily job, its orders load selected, under this run config (as the Launchpad sends it)."""
    job = build_definitions(settings).resolve_job_def(JOB_NAME)
    return job.execute_in_process(
        run_config=run_config, asset_selection=[dg.AssetKey(["staging", "orders"])], raise_on_error=False
    )


@pytest.mark.parametrize(("name", "value", "variable"), LOAD_TIME_CHANGES)
def test_a_run_changing_a_load_time_setting_fails_before_any_step_naming_the_variable(
    tmp_path, name, value, variable
):
    settings = _orders_landed(tmp_path)
    result = _run_orders_load(settings, {"resources": {"settings": {"config": {name: value}}}})
    assert not result.success
    assert not [e for e in result.all_events if e.event_type_value == "STEP_START"]
    [failure] = [e for e in result.all_events if e.event_type_value == "RESOURCE_INIT_FAILURE"]
    error = failure.event_specific_data.error
    assert error.cls_name == "SettingsError"
    loaded = str(getattr(settings, name)) if name == "data_dir" else getattr(settings, name)
    assert (
        f"{name} is read when the definitions load (they loaded with {loaded!r}, this run's config gives "
        f"{value!r}); set {variable} and reload the code location"
    ) in error.message


def test_a_run_config_repeating_the_loaded_values_runs(tmp_path):
    settings = _orders_landed(tmp_path)
    # The Launchpad's scaffold repeats every value; one run-time setting changed beside them.
    repeated = {
        name: str(value) if name == "data_dir" else value
        for name, value in PipelineSettings.from_settings(settings).data.items()
    }
    result = _run_orders_load(
        settings, {"resources": {"settings": {"config": {**repeated, "reject_threshold": 0.5}}}}
    )
    assert result.success
    [materialization] = result.asset_materializations_for_node("staging__orders")
    assert materialization.metadata["dagster/row_count"].value == 1


@pytest.mark.slow  # a run on a persistent Dagster instance, as the multiprocess executor needs (~5-10 s)
def test_a_lake_run_changing_a_load_time_setting_fails_before_any_step_process(tmp_path, monkeypatch):
    # The lake's executor checks the run's config where the run is orchestrated, before it starts
    # step processes or takes the lake's lock (so no catalog server is reached).
    from segmentation_pipeline.definitions import daily_job_from_env

    monkeypatch.setenv("SEGMENTATION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SEGMENTATION_WAREHOUSE", "ducklake")
    monkeypatch.setenv("SEGMENTATION_DUCKLAKE_CATALOG", "postgresql://etl@db.invalid:5432/lake")
    run_config = {"resources": {"settings": {"config": {"workers": 8}}}}
    with dg.instance_for_test() as instance:
        result = dg.execute_job(
            dg.reconstructable(daily_job_from_env),
            instance=instance,
            run_config=run_config,
            asset_selection=[dg.AssetKey(["staging", "orders"])],
            raise_on_error=False,
        )
    assert not result.success
    assert not [e for e in result.all_events if e.event_type_value in ("STEP_WORKER_STARTING", "STEP_START")]
    [failure] = [e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE"]
    assert (
        "workers is read when the definitions load (they loaded with 2, this run's config gives 8); "
        "set SEGMENTATION_WORKERS and reload the code location"
    ) in failure.event_specific_data.error.message
