"""The persisted segment model, the knobs of the segmentation, and assignment to the nearest centroid."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np
import polars as pl
from sklearn.metrics import pairwise_distances_argmin_min

from segmentation_pipeline.models.segmentation.encoding import EncodedColumn

# 3: every trait weighs the same; 4: k by silhouette relative to a shuffled null (older models are refitted).
MODEL_VERSION = 4
PROSPECT_SEGMENT_ID = 0  # reserved: never issued by next_id


@dataclass(frozen=True)
class SegmentationConfig:
    """Knobs of the segmentation; defaults are the documented production values."""

    k_min: int = 2
    k_max: int = 20
    min_segment_share: float = 0.02  # a k whose smallest segment is below this is not eligible
    # 10,000 rather than 20,000 buyers (2026-12-01): on a 1M-customer synthetic profile the same
    # k (7 of 8 planted) and ARI (0.901) at 0.63 of the CPU; on the 20 held-out worlds the same
    # figures (few have more buyers). The smallest eligible segment (2%) still holds 200 of them.
    fit_sample_size: int = 10_000
    silhouette_sample_size: int = 5_000
    # "kmeans" (model version 4, the default): k-means at every k, k by silhouette / shuffled null.
    # "tree": k-means into `subclusters` sub-clusters merged by weighted Ward, every k a cut of that
    # tree, k by silhouette - shuffled null (k_choice). Better on the tuning worlds' worst case, worse
    # on the held-out benchmark (median ARI over everyone 0.780 against 0.827; README): not the default.
    model: str = "kmeans"
    n_init: int = 3  # k-means restarts for the chosen k
    # k-means restarts per k during the search: with 3, a poor local optimum at one k sometimes
    # decided the choice of k (measured on generated data); 5 costs ~1.3 s more on 1M customers.
    search_n_init: int = 5
    null_n_init: int = 3  # k-means restarts on each shuffled copy, per k
    # model "tree": 100 sub-clusters held ~200 buyers each on the 20,000-buyer sample it was measured on (60 scored
    # alike on the tuning worlds, 0.776 against 0.783 on the sample world).
    subclusters: int = 100
    subcluster_n_init: int = 2
    search_max_iter: int = 100  # k-means iterations per k during the search (and of the sub-clustering)
    # Shuffled copies of the silhouette sample put through the same sub-clustering and merges for
    # the null silhouette (the null curve is smooth in k; three copies steady it).
    null_copies: int = 3
    null_sample_size: int = 5_000  # the first this many of the silhouette sample are shuffled
    # The null is fitted at this many k spread in log k, the rest interpolated (k_choice.null_grid;
    # 0: at every k). 9 of the 19 k: 0.67 of the k choice's CPU, the same quality within the noise
    # of the k choice over the 20 held-out worlds and the same k on the three fixed test worlds;
    # 7 moved k on two of those, 11 did no better (benchmarks/README.md, 2026-12-01).
    null_grid_points: int = 9
    random_state: int = 42
    refit_every_days: int = 7
    # Drift: relative increase of the mean distance to the assigned centroid since the fit
    # (0.25 = customers sit 25% further from their centroids than when the model was fitted) ...
    drift_threshold: float = 0.25
    # ... or total variation distance between today's segment shares and the fit-time shares
    # (0.10 = a tenth of the buyers would have to change segment).
    share_shift_threshold: float = 0.10
    # Hungarian matching accepts a pair of centroids when their distance is at most this fraction
    # of the median distance between today's centroids.
    match_relative_cutoff: float = 0.5
    # At a refit, the previous k is kept unless another k's score (silhouette - null silhouette)
    # is higher by more than this fraction of the best score.
    k_hysteresis: float = 0.1
    top_categories: int = 12
    min_buyers_to_cluster: int = 20  # fewer buyers than this: one segment, nothing to split
    force_refit: bool = False


@dataclass
class SegmentModel:
    """Everything needed to assign customers tomorrow exactly as today; persisted as JSON."""

    columns: list[EncodedColumn]
    centroids: list[list[float]]
    segment_ids: list[int]
    next_id: int
    fitted_at: str  # ISO date of the run that fitted it (the analysis date, not the wall clock)
    k: int
    k_scores: dict[int, float] = field(default_factory=dict)  # score of the choice per k: silhouette / null
    k_silhouette: dict[int, float] = field(default_factory=dict)  # silhouette per k tried
    k_null_silhouette: dict[int, float] = field(default_factory=dict)  # silhouette of shuffled copies per k
    k_min_share: dict[int, float] = field(default_factory=dict)  # smallest segment share per k
    # The sub-clusters (k_choice): a buyer belongs to the segment of its nearest sub-centroid.
    # Empty: the segment centroids themselves are the nearest-centroid model.
    subcentroids: list[list[float]] = field(default_factory=list)
    subsegments: list[int] = field(default_factory=list)  # per sub-centroid: index into segment_ids
    fit_mean_distance: float = 0.0
    fit_shares: dict[int, float] = field(default_factory=dict)  # segment id -> share of buyers
    random_state: int = 42
    version: int = MODEL_VERSION

    @property
    def features(self) -> list[str]:
        return [c.name for c in self.columns]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SegmentModel:
        data = json.loads(text)
        data["columns"] = [EncodedColumn(**c) for c in data["columns"]]
        for key in ("k_scores", "k_silhouette", "k_null_silhouette", "k_min_share", "fit_shares"):
            data[key] = {int(k): v for k, v in data.get(key, {}).items()}  # JSON keys are strings
        return cls(**data)

    def encode(self, profile: pl.DataFrame) -> np.ndarray:
        """The feature matrix (float32, one row per profile row) in this model's space."""
        if not self.columns:
            return np.zeros((profile.height, 0), dtype=np.float32)
        return np.ascontiguousarray(profile.select([c.expr() for c in self.columns]).to_numpy())

    def assign(self, profile: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Segment id of each row's nearest centroid, and the distance to it."""
        if self.subcentroids:
            sub, distances = nearest_in_chunks(
                profile, self.columns, np.asarray(self.subcentroids, np.float32)
            )
            labels = np.asarray(self.subsegments, dtype=np.int64)[sub] if sub.size else sub
        else:
            labels, distances = nearest_in_chunks(
                profile, self.columns, np.asarray(self.centroids, np.float32)
            )
        ids = np.asarray(self.segment_ids, dtype=np.int64)
        return (ids[labels] if ids.size else np.zeros(profile.height, dtype=np.int64)), distances


def nearest_in_chunks(
    profile: pl.DataFrame, columns: list[EncodedColumn], centroids: np.ndarray, chunk: int = 200_000
) -> tuple[np.ndarray, np.ndarray]:
    """Encode and assign slice by slice, so a million customers never sit in memory as one matrix."""
    labels = np.zeros(profile.height, dtype=np.int64)
    distances = np.zeros(profile.height, dtype=np.float64)
    exprs = [c.expr() for c in columns]
    for start in range(0, profile.height, chunk):
        x = profile.slice(start, chunk).select(exprs).to_numpy()
        labels[start : start + x.shape[0]], distances[start : start + x.shape[0]] = nearest_centroid(
            x, centroids
        )
    return labels, distances


@dataclass
class SegmentationResult:
    assignment: pl.DataFrame  # customer_id, segment_id (prospects: 0)
    model: SegmentModel
    k_scores: dict[int, float]
    refitted: bool
    reason: str
    ari_vs_previous: float | None
    drift: float  # relative increase of mean distance to the assigned centroid vs fit time
    share_shift: float  # total variation distance of segment shares vs fit time


def nearest_centroid(x: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest centroid and the Euclidean distance to it (scikit-learn, chunked inside)."""
    n = x.shape[0]
    if n == 0 or centroids.shape[0] == 0:
        return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.float64)
    # float64: the float32 path's rounding could flip near-ties between two centroids from run to run.
    labels, distances = pairwise_distances_argmin_min(x.astype(np.float64), centroids.astype(np.float64))
    return labels.astype(np.int64), distances.astype(np.float64)
