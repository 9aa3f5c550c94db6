"""Per-loop label audit between LABEL and TRAIN: out-of-fold probabilities and cleanlab's label-issue ranking."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from loopwise.core.protocols import Learner
from loopwise.errors import ConfigError


class SecondOpinion(Protocol):
    """Whoever re-labels a suspect: ``answer(positions, loop_index, attempt)`` returns class indices."""

    def answer(self, positions: np.ndarray, loop_index: int, attempt: int = 0) -> np.ndarray: ...


def _cleanlab() -> Any:
    try:
        import cleanlab.filter
    except ImportError as exc:  # pragma: no cover - the quality extra is installed in the suite
        raise ConfigError("the label audit needs cleanlab: pip install loopwise[quality]") from exc
    return cleanlab.filter


def out_of_fold_proba(learner: Learner, X: Any, y: np.ndarray, n_folds: int = 5, seed: int = 0) -> np.ndarray | None:
    """``n x n_classes`` probabilities, each row from a clone of ``learner`` that never saw that row.

    Folds are stratified; ``None`` when some class present has a single label
    (no fold split can then hold it out and still train on it).
    """
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y, dtype=np.int64)
    _, counts = np.unique(y, return_counts=True)
    n_splits = int(min(n_folds, counts.min()))
    if n_splits < 2 or len(counts) < 2:
        return None
    proba = np.zeros((len(y), learner.n_classes), dtype=np.float64)
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    for train, held in folds.split(np.zeros(len(y)), y):
        model = learner.clone()
        model.fit(X[train], y[train])
        proba[held] = model.predict_proba(X[held])
    return proba


def rank_label_issues(labels: np.ndarray, proba: np.ndarray, filter_by: str = "prune_by_noise_rate") -> np.ndarray:
    """Indices of the labels cleanlab flags as likely wrong, most suspicious first (confident learning)."""
    labels = np.asarray(labels, dtype=np.int64)
    present = np.unique(labels)
    # cleanlab wants every column to be a class that occurs; classes no one labelled yet are dropped.
    remap = np.full(proba.shape[1], -1, dtype=np.int64)
    remap[present] = np.arange(len(present))
    sub = proba[:, present]
    sub = sub / np.clip(sub.sum(axis=1, keepdims=True), 1e-12, None)
    # n_jobs=1: under a spawned process (the server's retraining child) cleanlab's worker pool is spawned too and
    # misses the globals it shares by fork (NameError: pred_probs_by_class); labelled sets are small anyway.
    ranked = _cleanlab().find_label_issues(
        labels=remap[labels], pred_probs=sub, filter_by=filter_by, return_indices_ranked_by="self_confidence", n_jobs=1
    )
    return np.asarray(ranked, dtype=np.int64)


class LabelAudit:
    """Audits the labelled set between LABEL and TRAIN: flags likely errors and asks for a second opinion.

    ``audit(loop, query, labels)`` looks at the pool's labels plus the new
    ``labels`` of ``query`` (not yet recorded), ranks likely errors with
    out-of-fold probabilities from clones of the run's learner and cleanlab, and
    sends each suspect, at most once per run, back to ``oracle``: a second label
    (``attempt=1``) and, when that disagrees, a third (``attempt=2``); the
    majority of the three wins. Old labels are corrected in the pool; new ones in
    the returned labels, which then go to ``Loop.record``. ``max_checks`` caps
    the second opinions per loop (``None``: every suspect). Of cleanlab's
    suspects only those whose given label gets an out-of-fold probability under
    ``self_confidence`` (default: half of ``1 / n_classes``) are checked: early
    models doubt many right labels, and each check costs labels. Every extra label
    asked for is counted in the returned ``extra`` (for ``LoopRecord.extra``).
    """

    def __init__(
        self,
        oracle: SecondOpinion | None,
        *,
        n_folds: int = 5,
        max_checks: int | None = None,
        filter_by: str = "prune_by_noise_rate",
        self_confidence: float | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if self_confidence is not None and not 0.0 < self_confidence <= 1.0:
            raise ConfigError(f"self_confidence must be in (0, 1]; got {self_confidence}")
        if n_folds < 2:
            raise ConfigError(f"the audit needs at least 2 folds; got n_folds={n_folds}")
        if max_checks is not None and max_checks < 0:
            raise ConfigError(f"max_checks must be at least 0; got {max_checks}")
        self.oracle = oracle
        self.n_folds = n_folds
        self.max_checks = max_checks
        self.filter_by = filter_by
        self.self_confidence = self_confidence
        self.clock = clock
        self.checked: set[int] = set()
        # Per loop: (loop index, audited positions, their labels before the audit, suspect positions).
        self.log: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
        self.relabels: list[tuple[int, int, int, int]] = []  # (loop, position, old label, new label)

    def audit(self, loop: Any, query: Any, labels: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        """The (possibly corrected) labels of ``query`` and the audit's counts; corrects older labels in ``loop.pool``."""
        start = self.clock()
        pool = loop.pool
        labels = np.asarray(labels, dtype=np.int64).copy()
        old = pool.labelled_positions
        positions = np.concatenate([old, np.asarray(query.positions, dtype=np.int64)])
        y = np.concatenate([pool.labels[old], labels])
        before = y.copy()
        proba = out_of_fold_proba(loop.learner, pool.rows(positions), y, self.n_folds, seed=loop.seed + query.loop_index)
        extra: dict[str, Any] = {"audit_suspects": 0, "audit_checked": 0, "audit_relabelled": 0, "audit_extra_labels": 0}
        suspects = np.zeros(0, dtype=np.int64)
        if proba is not None:
            flagged = rank_label_issues(y, proba, self.filter_by)
            # Precision guard: out-of-fold models trained on a few dozen hard (actively picked) records doubt
            # many right labels; only labels they give under half a uniform guess's chance go for a second opinion.
            limit = self.self_confidence if self.self_confidence is not None else 0.5 / len(np.unique(y))
            flagged = flagged[proba[flagged, y[flagged]] < limit] if len(flagged) else flagged
            flagged = flagged[[int(positions[i]) not in self.checked for i in flagged]] if len(flagged) else flagged
            if self.max_checks is not None:
                flagged = flagged[: self.max_checks]
            suspects = positions[flagged]
            extra["audit_suspects"] = len(flagged)
            if self.oracle is not None and len(flagged):
                new, counts = self._second_opinions(suspects, y[flagged], query.loop_index)
                y[flagged] = new
                n_old = len(old)
                in_old = flagged < n_old
                pool.labels[positions[flagged[in_old]]] = new[in_old]
                labels[flagged[~in_old] - n_old] = new[~in_old]
                extra.update(counts)
        if proba is not None:  # loops too small to rank are not counted as chances to check
            self.log.append((query.loop_index, positions, before, suspects))
        extra["audit_seconds"] = self.clock() - start
        return labels, extra

    def _second_opinions(self, suspects: np.ndarray, current: np.ndarray, loop_index: int) -> tuple[np.ndarray, dict[str, Any]]:
        assert self.oracle is not None
        second = self.oracle.answer(suspects, loop_index, attempt=1)
        disagree = np.flatnonzero(second != current)
        new = current.copy()
        n_extra = len(suspects)
        if len(disagree):
            third = self.oracle.answer(suspects[disagree], loop_index, attempt=2)
            n_extra += len(disagree)
            # Majority of three; when all three differ the second opinion, on a record already in doubt, wins.
            keep_old = third == current[disagree]
            new[disagree] = np.where(keep_old, current[disagree], second[disagree])
        changed = np.flatnonzero(new != current)
        self.checked.update(int(p) for p in suspects)
        self.relabels.extend((loop_index, int(suspects[i]), int(current[i]), int(new[i])) for i in changed)
        return new, {
            "audit_checked": len(suspects),
            "audit_relabelled": len(changed),
            "audit_extra_labels": n_extra,
        }


def run_audited_simulation(
    loop: Any,
    oracle: Any,
    audit: LabelAudit,
    on_record: Callable[[Any], None] | None = None,
) -> list[Any]:
    """``run_simulation`` with the audit between LABEL and TRAIN; its counts go into each ``LoopRecord.extra``."""
    while not loop.should_stop():
        query = loop.propose()
        labels, extra = audit.audit(loop, query, oracle.collect(query))
        record = loop.record(labels)
        record.extra.update(extra)
        if on_record is not None:
            on_record(record)
    return list(loop.records)
