"""Dagster resources: the run's settings, the stage configs and the warehouse (a DuckDB file, or a DuckLake)."""

# No `from __future__ import annotations`: Dagster reads a nested resource's annotation
# (`StageConfigsResource.settings`) as a class to accept a resource configured at launch.
import contextlib
import dataclasses
import datetime as dt
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field, PrivateAttr, create_model

from segmentation_pipeline.settings import Settings, env_name
from segmentation_pipeline.stages import StageConfigs
from segmentation_pipeline.warehouse import lake
from segmentation_pipeline.warehouse.run_lock import (
    RunLock,
    WarehouseBusyError,
    check_not_held_by_another_process,
)

if TYPE_CHECKING:  # what `configure_at_launch` returns; Dagster does not export its name
    from dagster._config.pythonic_config import PartialResource

# The run's analysis date, resolved once when the run is requested (CLI, schedule, sensor) and
# recorded on it; every step reads the same date.
ANALYSIS_DATE_TAG = "segmentation/analysis_date"
DATA_DIR_TAG = "segmentation/data_dir"


def run_tags(settings: Settings) -> dict[str, str]:
    """The tags of a run over these settings: its analysis date (resolved now) and data dir."""
    return {
        ANALYSIS_DATE_TAG: settings.analysis_date().isoformat(),
        DATA_DIR_TAG: str(settings.data_dir.resolve()),
    }


def _config_fields() -> dict[str, Any]:
    """The fields of settings.Settings as Dagster config: the same names, types and descriptions (a
    path as text), without defaults (Settings holds the only ones)."""
    types = typing.get_type_hints(Settings)
    return {
        f.name: (str if types[f.name] is Path else types[f.name], Field(description=_description(f)))
        for f in dataclasses.fields(Settings)
    }


def _description(f: dataclasses.Field) -> str:
    """A setting's description in the Launchpad; a load-time one says where to change it."""
    if not f.metadata["load_time"]:
        return f.metadata["doc"]
    return (
        f"{f.metadata['doc']} Read when the definitions load: set {env_name(f.name)} and reload the code "
        "location (a run's config may only repeat the loaded value)."
    )


# Made from Settings, so that the Launchpad shows every setting with its type and description.
_SettingsConfig = create_model("SettingsConfig", __base__=dg.ConfigurableResource, **_config_fields())


class PipelineSettings(_SettingsConfig):
    """The run's settings (segmentation_pipeline/settings.py, one SEGMENTATION_* variable each).

    Set from the environment when the definitions load; a run's config (the Launchpad) may change
    them for its steps and stage configs, checked once as the run's resources start, before any
    step. Those that choose the warehouse and the executor (`load_time` in settings.py) are read as
    the definitions load: a run's config may repeat their value, and a run that changes one fails
    there, naming the variable to set instead.
    """

    @classmethod
    def from_settings(cls, settings: Settings) -> "PartialResource[PipelineSettings]":
        """The resource over these settings, each still open to a run's config.

        Configured at launch (every field given a default here) so that the resources built on it
        (`StageConfigsResource`) read it as the run configured it, not as the definitions loaded it.
        """
        values = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
        return cls.configure_at_launch(**{**values, "data_dir": str(settings.data_dir)})

    _settings: Settings | None = PrivateAttr(default=None)
    _as_of: dt.date | None = PrivateAttr(default=None)

    def settings(self) -> Settings:
        """These values as a checked Settings (a bad value raises SettingsError naming it)."""
        if self._settings is None:
            self._settings = Settings(**{k: getattr(self, k) for k in type(self).model_fields})
        return self._settings

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        settings = self.settings()  # a bad value in the run's config fails here, before any step
        loaded = _loaded_settings(context.resource_def)
        if loaded is not None:
            loaded.check_run_settings(settings)
        # Once per run: the run's tag when it has one, else resolved now (a file landing mid-run
        # cannot move the date between steps).
        tag = context.run.tags.get(ANALYSIS_DATE_TAG) if context.run else None
        self._as_of = dt.date.fromisoformat(tag) if tag else settings.analysis_date()

    def analysis_date(self) -> dt.date:
        return self._as_of or self.settings().analysis_date()


def _loaded_settings(resource_def: dg.ResourceDefinition | None) -> Settings | None:
    """The settings the definitions loaded with: the defaults they gave this resource's config."""
    if resource_def is None:  # a resource built by hand, outside a run
        return None
    config = resource_def.config_schema.as_field().config_type.fields
    return Settings(**{name: f.default_value for name, f in config.items() if f.default_provided})


class StageConfigsResource(dg.ConfigurableResource):
    """Each stage's config (stages.StageConfigs), made as a run starts from the run's settings."""

    settings: PipelineSettings  # the top-level `settings` resource, with the run's config

    def create_resource(self, context: dg.InitResourceContext) -> StageConfigs:
        return StageConfigs.from_settings(self.settings.settings())


class Warehouse(DuckDBResource):
    """The DuckDB warehouse, held exclusively by one run from its first step to its end.

    `lock_wait_seconds`: how long a second run waits for the first before failing.
    """

    lock_wait_seconds: float = 60.0
    _lock: RunLock | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run_id = context.run.run_id if context.run else ""
        self._lock = RunLock(Path(self.database), self.lock_wait_seconds, owner=run_id)
        self._lock.acquire()
        try:
            check_not_held_by_another_process(Path(self.database))
        except WarehouseBusyError:
            self._lock.release()
            raise

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.release()


class LakeWarehouse(DuckDBResource):
    """The warehouse as a DuckLake: catalog in PostgreSQL, tables as Parquet under `data_path`.

    Each step opens its own connection (in its own process under the multiprocess executor, or its
    own pod under `k8s_job_executor`); the catalog orders their commits, so steps write at once.
    A DuckDBResource with another connection, so the assets take either warehouse unchanged.
    """

    database: str = ":memory:"  # DuckDB's own database only holds the session's temporary objects
    catalog: str
    data_path: str

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        with self.get_connection() as conn:
            lake.prepare(conn)

    @contextlib.contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        conn = lake.connect(self.catalog, self.data_path, self.connection_config)
        try:
            yield conn
        finally:
            conn.close()
