"""The segmentation's public names in one place (the logic lives in the modules beside it).

encoding (feature space) -> k_choice (number of segments) -> segmenting (fit, reuse, refit) ->
ids (stable ids) -> model (the persisted model, assignment) ; explain (what sets a segment apart).
"""

from segmentation_pipeline.models.segmentation.encoding import (
    MISSING_INDICATORS,
    NUMERIC_FEATURES,
    ONE_HOT_FEATURES,
    ORDINALS,
    PROFILE_SCHEMA,
    SURVEY_COLUMNS,
    EncodedColumn,
    ensure_profile_columns,
    is_prospect,
    learn_encoding,
    map_centroids,
    prepare_profile,
    trait_weights,
)
from segmentation_pipeline.models.segmentation.explain import (
    CATEGORY_TRAITS,
    NUMERIC_TRAITS,
    explain_segments,
    format_value,
)
from segmentation_pipeline.models.segmentation.ids import align_by_overlap, align_segment_ids
from segmentation_pipeline.models.segmentation.k_choice import null_silhouettes
from segmentation_pipeline.models.segmentation.model import (
    MODEL_VERSION,
    PROSPECT_SEGMENT_ID,
    SegmentationConfig,
    SegmentationResult,
    SegmentModel,
    nearest_centroid,
)
from segmentation_pipeline.models.segmentation.segmenting import (
    adjusted_rand_vs_previous,
    attach_segments,
    segment_customers,
)

__all__ = [
    "CATEGORY_TRAITS",
    "MISSING_INDICATORS",
    "MODEL_VERSION",
    "NUMERIC_FEATURES",
    "NUMERIC_TRAITS",
    "ONE_HOT_FEATURES",
    "ORDINALS",
    "PROFILE_SCHEMA",
    "PROSPECT_SEGMENT_ID",
    "SURVEY_COLUMNS",
    "EncodedColumn",
    "SegmentModel",
    "SegmentationConfig",
    "SegmentationResult",
    "adjusted_rand_vs_previous",
    "align_by_overlap",
    "align_segment_ids",
    "attach_segments",
    "ensure_profile_columns",
    "explain_segments",
    "format_value",
    "is_prospect",
    "learn_encoding",
    "map_centroids",
    "nearest_centroid",
    "null_silhouettes",
    "prepare_profile",
    "segment_customers",
    "trait_weights",
]
