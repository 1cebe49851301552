"""Each stage's config, made from the one typed `Settings` and handed to the assets as the `stages`
resource (defs/resources.py), from the run's settings as the run starts: a setting changed in a run's
config reaches every stage."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from segmentation_pipeline.marts.economics.segment_economics import EconomicsConfig
from segmentation_pipeline.marts.personas.config import PersonaConfig
from segmentation_pipeline.models.classes.customer_classes import ClassThresholds
from segmentation_pipeline.models.clv.predictions import CLVConfig
from segmentation_pipeline.models.segmentation.clustering import SegmentationConfig
from segmentation_pipeline.settings import Settings


@dataclass(frozen=True)
class StageConfigs:
    """The configs of the stages that take one; what no setting names keeps its documented default.

    The value basis (margin or revenue) is the data's, known only when a step reads the orders:
    `for_basis` sets it in the configs that carry it.
    """

    classes: ClassThresholds
    clv: CLVConfig
    segmentation: SegmentationConfig
    economics: EconomicsConfig
    personas: PersonaConfig

    @classmethod
    def from_settings(cls, settings: Settings) -> StageConfigs:
        return cls(
            classes=ClassThresholds(),
            clv=CLVConfig(
                holdout_days=settings.holdout_days, annual_discount_rate=settings.annual_discount_rate
            ),
            segmentation=SegmentationConfig(),
            economics=EconomicsConfig(cost_per_effort_point=settings.cost_per_effort_point),
            personas=PersonaConfig(
                brand=settings.brand,
                category_en=settings.category,
                category_fr=settings.category_fr,
                currency=settings.currency,
                claim_support=settings.claim_support,
            ),
        )

    def for_basis(self, basis: str) -> StageConfigs:
        """These configs on the run's value basis (`features.value_basis.ValueBasis.basis`)."""
        return dataclasses.replace(
            self,
            economics=dataclasses.replace(self.economics, value_basis=basis),
            personas=dataclasses.replace(self.personas, value_basis=basis),
        )
