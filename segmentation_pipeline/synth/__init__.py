"""Sample-data generator: a realistic landing zone with planted customer archetypes and optional faults."""

from segmentation_pipeline.synth.days import FORMATS
from segmentation_pipeline.synth.generate import DEFAULT_END, GenerationSummary, generate_landing_zone

__all__ = ["DEFAULT_END", "FORMATS", "GenerationSummary", "generate_landing_zone"]
