"""Per-candidate features of the learned selector: scale-free reads of the metadata store, the pool and the run.

Every column is a quantile within the candidates, a rate, a share or a log ratio, so
that one model can score pools of any size, dimension, number of classes or
label set: the selector must generalise to datasets it was not trained on.
Vectorised over the candidates (no per-record Python), a fixed number of
``n_candidates``-long temporaries, so one call on a 1M-record pool stays within
``auto``'s selection bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from loopwise.strategies._base import History, StrategyInputs
from loopwise.strategies._pairwise import dense_view, kmeans, min_sq_distances, n_rows, nearest, subsample, vectors
from loopwise.strategies._uncertainty import entropy, margin

#: Columns of :func:`candidate_features`, in order; the model file records them and refuses another order.
FEATURE_NAMES = (
    # the record: uncertainty now and as a time series over past loops (metadata store)
    "margin",  # 1 - (p1 - p2), absolute: in [0, 1] whatever the pool
    "q_margin",  # quantile of margin among the candidates
    "q_entropy",  # quantile of normalised entropy
    "q_margin_ema",  # quantile of the margin's moving average over loops
    "margin_trend",  # margin now minus at the loop before (0 at the first loop with a model)
    "flip_rate",  # changes of predicted class per loop, this one included
    # the record in the pool: density, typicality, distance to what is labelled, coverage
    "q_dist_labelled",  # quantile of the distance to the nearest labelled record
    "q_centroid_dist",  # quantile of the distance to its k-means centroid (low: typical)
    "log_cluster_density",  # log of its cluster's share of the pool times the number of clusters
    "log_cluster_coverage",  # log of its cluster's share of the labels over its share of the pool
    "log_class_coverage",  # log of its predicted class's share of the labels times the number of classes
    # the run
    "log_labels_per_class",  # log(labels / classes)
    "log_labelled_share",  # log10(labels / pool size)
    "label_balance",  # entropy of the labels' class counts over log(classes): 1 is balanced
    "pred_change",  # share of the candidates whose predicted class changed since the loop before
    "confidence",  # mean top-class probability rescaled: 0 uniform, 1 certain
    "log_classes",  # log(number of classes)
)

_QUANTILE_ROWS = 20000
_CLUSTER_POINTS = 5000
_MAX_DIMS = 50


@dataclass(frozen=True)
class CandidateView:
    """What the features were computed from, kept for the batch rule: each candidate's k-means cluster."""

    features: np.ndarray  # n_candidates x len(FEATURE_NAMES), float32
    clusters: np.ndarray  # n_candidates, int64


def quantiles(values: np.ndarray, max_rows: int = _QUANTILE_ROWS) -> np.ndarray:
    """Mid-rank quantile in [0, 1] of each value among every ``ceil(n / max_rows)``-th value (float32).

    A sorted systematic sample keeps this one ``searchsorted`` pass at any pool size;
    ties share their mid-rank, so constant columns map to 0.5.
    """
    values = np.asarray(values, dtype=np.float32)
    n = values.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.float32)
    ref = np.sort(values[:: max(1, -(-n // max_rows))])
    lo = np.searchsorted(ref, values, side="left")
    hi = np.searchsorted(ref, values, side="right")
    return ((lo + hi) / (2.0 * len(ref))).astype(np.float32)


def confidence(proba: np.ndarray, max_rows: int = _QUANTILE_ROWS) -> float:
    """Mean top-class probability rescaled so that uniform predictions give 0 and certain ones 1.

    Over every ``ceil(n / max_rows)``-th row: an estimate on large pools, the same rows
    whether computed from the candidates' probabilities or re-derived from the history.
    """
    proba = np.asarray(proba)
    if proba.size == 0:
        return 1.0
    proba = proba[:: max(1, -(-proba.shape[0] // max_rows))]
    k = proba.shape[1]
    floor = 1.0 / max(k, 2)
    return float((proba.max(axis=1).mean(dtype=np.float64) - floor) / (1.0 - floor))


def _label_counts(history: History | None, n_classes: int) -> np.ndarray:
    if history is None or not history.labels_by_loop:
        return np.zeros(n_classes, dtype=np.int64)
    labels = np.concatenate([loop.labels for loop in history.labels_by_loop])
    return np.bincount(labels[(labels >= 0) & (labels < n_classes)], minlength=n_classes)


def candidate_features(inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> CandidateView:
    """The :data:`FEATURE_NAMES` matrix of the candidates of one selection, and their clusters.

    Reads ``proba``, ``features`` (with the labelled rows) and ``history`` (its
    running :class:`RecordMetadata`, fed once per loop: nothing is re-read from
    past loops). k-means (``min(max(2 x classes, labels / 4), 100)`` clusters)
    runs on a seeded subsample of at most 5,000 candidates in a dense view of
    at most 50 dimensions (truncated SVD of sparse rows).
    """
    proba = np.asarray(inputs.require("proba"))
    candidates = np.asarray(inputs.candidates, dtype=np.int64)
    history: History | None = inputs.history
    X, labelled = vectors(inputs, "features")
    n, k = proba.shape[0], max(int(proba.shape[1]), 2)
    cols: dict[str, Any] = {}
    m = margin(proba).astype(np.float32)
    cols["margin"] = m
    cols["q_margin"] = quantiles(m)
    cols["q_entropy"] = quantiles(entropy(proba))
    meta = history.metadata if history is not None else None
    pred = proba.argmax(axis=1)
    if meta is not None and meta.n_updates > 0 and meta.n_pool > int(candidates.max(initial=-1)):
        # The loop folds this selection's probabilities into the store after it selects: combine them here.
        flipped = pred != meta.pred[candidates]
        cols["q_margin_ema"] = quantiles(meta.ema_alpha * m + (1 - meta.ema_alpha) * meta.margin_ema[candidates])
        cols["margin_trend"] = m - meta.margin[candidates]
        cols["flip_rate"] = (meta.flips[candidates] + flipped) / np.float32(meta.n_updates)
        pred_change = float(flipped.mean()) if n else 0.0
    else:
        cols["q_margin_ema"] = cols["q_margin"]
        cols["margin_trend"] = np.zeros(n, dtype=np.float32)
        cols["flip_rate"] = np.zeros(n, dtype=np.float32)
        pred_change = 0.0

    n_labelled = n_rows(labelled)
    sample = subsample(n, _CLUSTER_POINTS, rng)
    view = dense_view(X[sample], _MAX_DIMS, rng)
    Z = view(X)
    if n_labelled:
        cols["q_dist_labelled"] = quantiles(min_sq_distances(Z, view(labelled)))
    else:
        cols["q_dist_labelled"] = np.full(n, 0.5, dtype=np.float32)
    n_clusters = int(min(max(2 * k, n_labelled // 4), 100, len(sample)))
    centroids, _ = kmeans(Z[sample], n_clusters, rng)
    n_clusters = centroids.shape[0]
    clusters, sq = nearest(Z, centroids)
    cols["q_centroid_dist"] = quantiles(sq)
    sizes = np.bincount(clusters, minlength=n_clusters).astype(np.float64)
    cols["log_cluster_density"] = np.log(sizes[clusters] * n_clusters / max(n, 1))
    covered = np.zeros(n_clusters)
    if n_labelled:
        covered += np.bincount(nearest(view(labelled), centroids)[0], minlength=n_clusters)
    cluster_cov = np.log(((covered + 1) / (n_labelled + n_clusters)) / ((sizes + 1) / (n + n_clusters)))
    cols["log_cluster_coverage"] = cluster_cov[clusters]

    counts = _label_counts(history, proba.shape[1]).astype(np.float64)
    total = float(counts.sum())
    class_cov = np.log((counts + 1) / (total + proba.shape[1]) * proba.shape[1])
    cols["log_class_coverage"] = class_cov[pred]
    share = counts[counts > 0] / total if total else np.ones(1)
    run = {
        "log_labels_per_class": np.log(max(n_labelled, total, 1) / k),
        "log_labelled_share": np.log10(max(n_labelled, total, 1) / (n + max(n_labelled, total))),
        "label_balance": float(-(share * np.log(share)).sum() / np.log(k)),
        "pred_change": pred_change,
        "confidence": confidence(proba),
        "log_classes": np.log(k),
    }
    out = np.empty((n, len(FEATURE_NAMES)), dtype=np.float32)
    for j, name in enumerate(FEATURE_NAMES):
        out[:, j] = run[name] if name in run else cols[name]
    return CandidateView(features=out, clusters=clusters.astype(np.int64))
