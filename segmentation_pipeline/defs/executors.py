"""DuckLake mode's executor: Dagster's multiprocess executor, run under the lake's run lock.

The lock is taken where the run is orchestrated (the run worker: `make run`'s process, or the
process or pod a run launcher starts), before the first step and released after the last, so it
covers the whole run whatever process or pod each step runs in. Wrapping the executor rather than
a resource matters: resources are built again in every step process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import dagster as dg

from segmentation_pipeline.settings import Settings
from segmentation_pipeline.warehouse.lake_lock import LakeRunLock
from segmentation_pipeline.warehouse.run_lock import RunLock
from segmentation_pipeline.warehouse.session import run_lock


class RunLockedExecutor(dg.Executor):
    """Another executor's run, between acquiring and releasing a run lock."""

    def __init__(self, inner: dg.Executor, lock_for_run: Callable[[str], LakeRunLock | RunLock]):
        self._inner = inner
        self._lock_for_run = lock_for_run

    @property
    def retries(self):
        return self._inner.retries

    @property
    def step_dependency_config(self):
        return self._inner.step_dependency_config

    def execute(self, plan_context, execution_plan) -> Iterator[dg.DagsterEvent]:
        with self._lock_for_run(plan_context.run_id):
            yield from self._inner.execute(plan_context, execution_plan)


def lake_executor(settings: Settings, multiprocess_config: dict) -> dg.ExecutorDefinition:
    """The multiprocess executor with `multiprocess_config`, holding the lake while the run lasts."""

    def lock_for_run(run_id: str) -> LakeRunLock | RunLock:
        return run_lock(settings, settings.lock_wait_seconds, owner=run_id)

    @dg.executor(
        name="multiprocess_under_lake_lock",
        config_schema=dg.multiprocess_executor.config_schema,
        requirements=dg.multiple_process_executor_requirements(),
    )
    def multiprocess_under_lake_lock(init_context: dg.InitExecutorContext) -> dg.Executor:
        return RunLockedExecutor(dg.multiprocess_executor.executor_creation_fn(init_context), lock_for_run)

    return multiprocess_under_lake_lock.configured(multiprocess_config)
