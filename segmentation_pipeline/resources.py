"""Dagster resources: the run's settings and the DuckDB warehouse."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg

from segmentation_pipeline.settings import Settings


class PipelineSettings(dg.ConfigurableResource):
    """The run's settings (see settings.Settings; built from SEGMENTATION_* variables)."""

    data_dir: str = "data"
    as_of: str = ""
    reject_threshold: float = 0.05
    rfm_monetary: str = "margin"
    cost_per_effort_point: float = 2.0
    annual_discount_rate: float = 0.10
    holdout_days: int = 90
    brand: str = "Maison Exemple"
    category: str = "home and lifestyle goods"

    @classmethod
    def from_settings(cls, settings: Settings) -> PipelineSettings:
        values = {k: getattr(settings, k) for k in cls.model_fields}
        return cls(**{**values, "data_dir": str(settings.data_dir)})

    def settings(self) -> Settings:
        values = {k: getattr(self, k) for k in type(self).model_fields}
        return Settings(**{**values, "data_dir": Path(self.data_dir)})

    def analysis_date(self) -> dt.date:
        return self.settings().analysis_date()
