"""Contracts in code: the landing models (one Pandera model per source) and the tables the pipeline writes."""

from segmentation_pipeline.contracts.sources import PERSONAL_COLUMNS, SOURCES, SourceContract, source_contract

__all__ = ["PERSONAL_COLUMNS", "SOURCES", "SourceContract", "source_contract"]
