"""DuckLake mode's executor: Dagster's multiprocess executor, run under the lake's run lock.

The lock is taken where the run is orchestrated (the run worker: `make run`'s process, or the
process or pod a run launcher starts), before the first step and released after the last, so it
covers the whole run whatever process or pod each step runs in. Wrapping the executor rather than
a resource matters: resources are built again in every step process. For the same reason a run
whose config changes a load-time setting is refused here, once, before any step process starts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import dagster as dg

from segmentation_pipeline.settings import Settings
from segmentation_pipeline.warehouse.lake_lock import LakeRunLock
from segmentation_pipeline.warehouse.run_lock import RunLock
from segmentation_pipeline.warehouse.session import run_lock


class RunLockedExecutor(dg.Executor):
    """Another executor's run, between acquiring and releasing a run lock, once its config is checked."""

    def __init__(
        self,
        inner: dg.Executor,
        lock_for_run: Callable[[str], LakeRunLock | RunLock],
        check_run_config: Callable[[Mapping[str, Any]], None],
    ):
        self._inner = inner
        self._lock_for_run = lock_for_run
        self._check_run_config = check_run_config

    @property
    def retries(self):
        return self._inner.retries

    @property
    def step_dependency_config(self):
        return self._inner.step_dependency_config

    def execute(self, plan_context, execution_plan) -> Iterator[dg.DagsterEvent]:
        # Here, before any step process starts: each would fail alike as its resources start.
        self._check_run_config(plan_context.run_config)
        with self._lock_for_run(plan_context.run_id):
            yield from self._inner.execute(plan_context, execution_plan)


def lake_executor(settings: Settings, multiprocess_config: dict) -> dg.ExecutorDefinition:
    """The multiprocess executor with `multiprocess_config`, holding the lake while the run lasts."""

    def lock_for_run(run_id: str) -> LakeRunLock | RunLock:
        return run_lock(settings, settings.lock_wait_seconds, owner=run_id)

    def check_run_config(run_config: Mapping[str, Any]) -> None:
        # The `settings` resource's config as the run gives it (PipelineSettings checks it the same way).
        changes = run_config.get("resources", {}).get("settings", {}).get("config", {})
        settings.check_run_settings(dataclasses.replace(settings, **changes))

    @dg.executor(
        name="multiprocess_under_lake_lock",
        config_schema=dg.multiprocess_executor.config_schema,
        requirements=dg.multiple_process_executor_requirements(),
    )
    def multiprocess_under_lake_lock(init_context: dg.InitExecutorContext) -> dg.Executor:
        inner = dg.multiprocess_executor.executor_creation_fn(init_context)
        return RunLockedExecutor(inner, lock_for_run, check_run_config)

    return multiprocess_under_lake_lock.configured(multiprocess_config)
