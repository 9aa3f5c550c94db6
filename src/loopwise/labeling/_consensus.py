"""Consensus over several labels per record and annotator quality: majority vote, Dawid-Skene (crowd-kit), CROWDLAB (cleanlab)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from loopwise.errors import ConfigError, DataError

CONSENSUS_METHODS = ("majority", "dawid_skene", "crowdlab")


@dataclass(frozen=True)
class Consensus:
    """Training labels from several annotators: one label and confidence per record, one quality per annotator."""

    method: str
    labels: np.ndarray
    confidence: np.ndarray
    annotator_quality: np.ndarray


def check_label_matrix(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """The ``n_records x n_annotators`` matrix as int64 (``-1``: no label); one clear error for a bad one."""
    matrix = np.asarray(labels)
    if matrix.ndim != 2:
        raise DataError(f"labels must be a records x annotators matrix; got shape {matrix.shape}")
    matrix = matrix.astype(np.int64)
    bad = (matrix < -1) | (matrix >= n_classes)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise DataError(f"label {matrix[row, col]} of record {row}, annotator {col} is not a class in 0..{n_classes - 1} (or -1)")
    empty = np.flatnonzero((matrix < 0).all(axis=1))
    if len(empty):
        raise DataError(f"record {int(empty[0])} has no label from any annotator ({len(empty)} such records)")
    return matrix


def _long_frame(matrix: np.ndarray) -> Any:
    import pandas as pd

    rows, cols = np.nonzero(matrix >= 0)
    return pd.DataFrame({"task": rows, "worker": cols, "label": matrix[rows, cols]})


def _crowdkit() -> Any:
    try:
        import crowdkit.aggregation
    except ImportError as exc:  # pragma: no cover - the quality extra is installed in the suite
        raise ConfigError("consensus needs crowd-kit: pip install loopwise[quality]") from exc
    return crowdkit.aggregation


def _vote_counts(matrix: np.ndarray, n_classes: int) -> np.ndarray:
    counts = np.zeros((len(matrix), n_classes))
    for a in range(matrix.shape[1]):
        given = matrix[:, a] >= 0
        np.add.at(counts, (np.flatnonzero(given), matrix[given, a]), 1.0)
    return counts


def _agreement_quality(matrix: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each annotator's agreement with the consensus labels, over the records it labelled."""
    quality = np.full(matrix.shape[1], np.nan)
    for a in range(matrix.shape[1]):
        given = matrix[:, a] >= 0
        if given.any():
            quality[a] = float((matrix[given, a] == labels[given]).mean())
    return quality


def majority_vote(labels: np.ndarray, n_classes: int, seed: int = 0) -> Consensus:
    """The baseline: the most frequent label per record (crowd-kit's MajorityVote), ties broken by a seeded draw."""
    matrix = check_label_matrix(labels, n_classes)
    counts = _vote_counts(matrix, n_classes)
    # crowd-kit breaks ties by order of appearance; a seeded jitter keeps ties fair and reproducible.
    jitter = np.random.default_rng(seed).random(counts.shape) * 1e-3
    result = (counts + jitter).argmax(axis=1)
    confidence = counts[np.arange(len(matrix)), result] / counts.sum(axis=1)
    return Consensus("majority", result.astype(np.int64), confidence, _agreement_quality(matrix, result))


def majority_vote_crowdkit(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """crowd-kit's own MajorityVote labels (ties by its order), for checking our seeded variant against it."""
    matrix = check_label_matrix(labels, n_classes)
    result = _crowdkit().MajorityVote().fit_predict(_long_frame(matrix))
    return result.sort_index().to_numpy().astype(np.int64)


def dawid_skene(labels: np.ndarray, n_classes: int, n_iter: int = 100) -> Consensus:
    """Dawid-Skene (1979) by EM in crowd-kit: a confusion matrix per annotator, a posterior per record."""
    matrix = check_label_matrix(labels, n_classes)
    model = _crowdkit().DawidSkene(n_iter=n_iter)
    proba_frame = model.fit_predict_proba(_long_frame(matrix)).sort_index()
    proba = np.zeros((len(matrix), n_classes))
    proba[:, proba_frame.columns.to_numpy().astype(np.int64)] = proba_frame.to_numpy()
    result = proba.argmax(axis=1).astype(np.int64)
    quality = np.full(matrix.shape[1], np.nan)
    errors = model.errors_  # rows: (worker, observed label), columns: true label
    for a in range(matrix.shape[1]):
        if a in errors.index.get_level_values(0):
            confusion = errors.xs(a, level=0)
            classes = [c for c in confusion.columns if c in confusion.index]
            prior = model.priors_.reindex(classes).fillna(0).to_numpy()
            diag = np.array([confusion.loc[c, c] for c in classes])
            quality[a] = float((diag * prior).sum() / max(prior.sum(), 1e-12))
    return Consensus("dawid_skene", result, proba.max(axis=1), quality)


def crowdlab(labels: np.ndarray, pred_probs: np.ndarray) -> Consensus:
    """CROWDLAB (Goh et al. 2022, cleanlab.multiannotator): annotators weighed against a model's out-of-fold probabilities."""
    n_classes = pred_probs.shape[1]
    matrix = check_label_matrix(labels, n_classes)
    if len(pred_probs) != len(matrix):
        raise DataError(f"pred_probs has {len(pred_probs)} rows for {len(matrix)} records")
    try:
        from cleanlab.multiannotator import get_label_quality_multiannotator
    except ImportError as exc:  # pragma: no cover
        raise ConfigError("CROWDLAB needs cleanlab: pip install loopwise[quality]") from exc
    frame = np.where(matrix >= 0, matrix, np.nan)
    out = get_label_quality_multiannotator(frame, pred_probs, verbose=False)
    quality_frame = out["label_quality"]
    stats = out["annotator_stats"].sort_index()
    quality = np.full(matrix.shape[1], np.nan)
    quality[stats.index.to_numpy().astype(np.int64)] = stats["annotator_quality"].to_numpy()
    return Consensus(
        "crowdlab",
        quality_frame["consensus_label"].to_numpy().astype(np.int64),
        quality_frame["consensus_quality_score"].to_numpy().astype(np.float64),
        quality,
    )


def consensus(labels: np.ndarray, n_classes: int, method: str = "dawid_skene", pred_probs: np.ndarray | None = None, seed: int = 0) -> Consensus:
    """Training labels by ``method`` (``majority``, ``dawid_skene`` or ``crowdlab``, which needs ``pred_probs``)."""
    if method == "majority":
        return majority_vote(labels, n_classes, seed)
    if method == "dawid_skene":
        return dawid_skene(labels, n_classes)
    if method == "crowdlab":
        if pred_probs is None:
            raise ConfigError("consensus method 'crowdlab' needs pred_probs (out-of-fold model probabilities)")
        return crowdlab(labels, pred_probs)
    raise ConfigError(f"consensus method must be one of {', '.join(CONSENSUS_METHODS)}; got {method!r}")


def relabel_candidates(labels: np.ndarray, pred_probs: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` records whose next label helps the consensus most (ActiveLab: cleanlab's lowest active-learning scores)."""
    if n < 0:
        raise ConfigError(f"the number of records to relabel must be at least 0; got {n}")
    matrix = check_label_matrix(labels, pred_probs.shape[1])
    from cleanlab.multiannotator import get_active_learning_scores

    frame = np.where(matrix >= 0, matrix, np.nan)
    scores, _ = get_active_learning_scores(frame, pred_probs)
    return np.argsort(np.asarray(scores), kind="stable")[:n].astype(np.int64)
