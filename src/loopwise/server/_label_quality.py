"""Label quality in the server's retrain: training labels by a consensus model, annotator quality, the audit's suspects.

Glue only: the consensus models are ``loopwise.labeling``'s (crowd-kit's Dawid-Skene, cleanlab's CROWDLAB), the
audit is its out-of-fold probabilities and cleanlab ranking. Runs in the retraining child; returns plain data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from loopwise.storage._annotation_consensus import AnnotatorQuality, ConsensusLabel
from loopwise.storage._annotation_review import Suspect

CONSENSUS_CHOICES = ("majority", "dawid_skene", "crowdlab")
_AUDIT_FOLDS = 5


@dataclass
class TrainingLabels:
    """Each labelled record's training label (a class index) and confidence, and each annotator's quality."""

    method: str  # the method that produced them (majority where the one asked for had nothing to weigh)
    names: list[str]
    labels: dict[int, int]
    confidence: dict[int, float]
    n_labels: dict[int, int]
    quality: list[AnnotatorQuality] = field(default_factory=list)

    def rows(self) -> list[ConsensusLabel]:
        """One row per labelled record, for the store."""
        return [ConsensusLabel(r, self.names[v], self.confidence[r], self.n_labels[r]) for r, v in self.labels.items()]


def training_labels(
    votes: dict[int, list[tuple[str, str]]], decided: dict[int, str], names: Sequence[str], method: str,
    out_of_fold: Callable[[list[int], np.ndarray], np.ndarray | None] | None = None,
) -> TrainingLabels:
    """The training label of every record in ``votes`` ((annotator, value) pairs, oldest first).

    ``majority``: the most frequent label, a tie to the label given first (the server's rule so far).
    ``dawid_skene`` / ``crowdlab``: loopwise.labeling's consensus over the records x annotators matrix, once some
    record has two labels (with one label each there is nothing to weigh, and no quality to estimate); CROWDLAB
    weighs the annotators against ``out_of_fold(record_ids, majority_labels)``, a model's out-of-fold probabilities.
    A decided (adjudicated or reviewed) record takes its decided label, at confidence 1.
    """
    index = {name: i for i, name in enumerate(names)}
    records = list(votes)
    majority: dict[int, int] = {}
    share: dict[int, float] = {}
    for r in records:
        counts = Counter(value for _, value in votes[r])
        value, n = counts.most_common(1)[0]
        majority[r], share[r] = index[value], n / len(votes[r])
    result = TrainingLabels("majority", list(names), majority, share, {r: len(votes[r]) for r in records})
    multi = [r for r in records if len(votes[r]) > 1 and r not in decided]
    if multi:
        annotators = sorted({a for r in records for a, _ in votes[r]})
        column = {a: j for j, a in enumerate(annotators)}
        matrix = np.full((len(records), len(annotators)), -1, dtype=np.int64)
        for i, r in enumerate(records):
            for a, value in votes[r]:
                matrix[i, column[a]] = index[value]
        # Majority weighs no one: its quality estimate is each annotator's agreement with it.
        found = None if method == "majority" else _consensus(matrix, len(names), method, records, majority, out_of_fold)
        if found is not None:
            result.method = found.method
            result.labels = {r: int(v) for r, v in zip(records, found.labels, strict=True)}
            result.confidence = {r: float(c) for r, c in zip(records, found.confidence, strict=True)}
        chosen = np.asarray([result.labels[r] for r in records])
        in_multi = np.asarray([len(votes[r]) > 1 for r in records])
        for a, j in column.items():
            given = matrix[:, j] >= 0
            compared = given & in_multi
            agreement = float((matrix[compared, j] == chosen[compared]).mean()) if compared.any() else None
            if found is None:
                quality = agreement
            else:
                quality = float(found.annotator_quality[j]) if np.isfinite(found.annotator_quality[j]) else None
            result.quality.append(AnnotatorQuality(a, quality, agreement, int(given.sum())))
    for r, value in decided.items():
        if r in result.labels:
            result.labels[r], result.confidence[r] = index[value], 1.0
    return result


def _consensus(
    matrix: np.ndarray, n_classes: int, method: str, records: list[int], majority: dict[int, int],
    out_of_fold: Callable[[list[int], np.ndarray], np.ndarray | None] | None,
) -> Any:
    from loopwise.labeling import consensus

    if method == "crowdlab":
        proba = None if out_of_fold is None else out_of_fold(records, np.asarray([majority[r] for r in records]))
        if proba is None:  # too few labels per class to hold any out: Dawid-Skene needs no model
            method = "dawid_skene"
        else:
            return consensus(matrix, n_classes, "crowdlab", pred_probs=proba)
    return consensus(matrix, n_classes, method)


def audit_suspects(loop: Any, record_ids: np.ndarray, names: Sequence[str], limit: int, seed: int) -> list[Suspect]:
    """The labelled records whose training labels cleanlab flags given out-of-fold probabilities, most suspicious first.

    At most ``limit``; empty when the labels are too few to hold any out (a class with a single label).
    """
    from loopwise.labeling import out_of_fold_proba, rank_label_issues

    positions = loop.pool.labelled_positions
    y = np.asarray(loop.pool.labels[positions], dtype=np.int64)
    if len(np.unique(y)) < 2:
        return []
    proba = out_of_fold_proba(loop.learner, loop.pool.rows(positions), y, _AUDIT_FOLDS, seed=seed)
    if proba is None:
        return []
    flagged = rank_label_issues(y, proba)[:limit]
    return [
        Suspect(int(record_ids[positions[i]]), names[int(y[i])], names[int(proba[i].argmax())], float(proba[i, y[i]]))
        for i in flagged
    ]




def weak_ranking(
    loop: Any, weak_positions: np.ndarray, weak_y: np.ndarray, open_positions: np.ndarray, size: int, seed: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """Loop 0's order from the rules: the project's strategy on a clone of its learner trained on the weak labels.

    The ``size`` open positions the strategy picks, best first, and their scores; None when the weak labels hold a
    single class or the strategy needs more than probabilities and features (a committee, a history, ...).
    """
    from loopwise.loop import loop_rng, predict_proba_pool
    from loopwise.strategies import FEATURES, PROBA, StrategyInputs

    if len(np.unique(weak_y)) < 2 or not set(loop.strategy.requires) <= {PROBA, FEATURES} or not len(open_positions):
        return None
    model = loop.learner.clone()
    model.fit(loop.pool.rows(weak_positions), weak_y)
    proba = predict_proba_pool(model, loop.pool.X)
    inputs = StrategyInputs(
        candidates=open_positions, proba=proba[open_positions], features=loop.pool.rows(open_positions),
        labelled_features=loop.pool.rows(np.zeros(0, dtype=np.int64)),
    )
    selection = loop.strategy.select(inputs, min(size, len(open_positions)), loop_rng(seed, 0))
    return open_positions[selection.positions], np.asarray(selection.scores, dtype=np.float64)


def record_label_quality(repo: Any, project_id: int, loop_index: int, train: TrainingLabels | None, suspects: list[Suspect] | None) -> None:
    """Write a retrain's consensus labels, annotator quality and audit suspects (the review queue) to the store."""
    if train is not None:
        repo.store_consensus(project_id, loop_index, train.method, train.rows(), train.quality)
    if suspects is not None:
        repo.store_audit(project_id, loop_index, suspects)


__all__ = ["CONSENSUS_CHOICES", "TrainingLabels", "audit_suspects", "record_label_quality", "training_labels", "weak_ranking"]
