"""The landing contract in code: one Pandera model per source plus the facts ingestion needs."""

from segmentation_pipeline.contracts.sources import SOURCES, SourceContract, source_contract

__all__ = ["SOURCES", "SourceContract", "source_contract"]
