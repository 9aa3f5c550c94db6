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


def out_of_fold_proba(
    learner: Learner, X: Any, y: np.ndarray, n_folds: int = 5, seed: int = 0, n_repeats: int = 1
) -> np.ndarray | None:
    """``n x n_classes`` probabilities, each row from clones of ``learner`` that never saw that row.

    Folds are stratified; with ``n_repeats > 1`` the split is drawn that many
    times and the held-out probabilities averaged (a steadier estimate when few
    labels make any one split a lottery). ``None`` when some class present has
    a single label (no fold split can then hold it out and still train on it).
    """
    from sklearn.model_selection import RepeatedStratifiedKFold

    if n_repeats < 1:
        raise ConfigError(f"n_repeats must be at least 1; got {n_repeats}")
    y = np.asarray(y, dtype=np.int64)
    _, counts = np.unique(y, return_counts=True)
    n_splits = int(min(n_folds, counts.min()))
    if n_splits < 2 or len(counts) < 2:
        return None
    proba = np.zeros((len(y), learner.n_classes), dtype=np.float64)
    folds = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    for train, held in folds.split(np.zeros(len(y)), y):
        model = learner.clone()
        model.fit(X[train], y[train])
        proba[held] += model.predict_proba(X[held])
    return proba / n_repeats


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


RESOLVE_RULES = ("majority", "model")


class LabelAudit:
    """Audits the labelled set between LABEL and TRAIN: flags likely errors and asks for a second opinion.

    Every loop, ``audit(loop, query, labels)`` re-ranks *all* labels not yet
    checked (the pool's plus the new ``labels`` of ``query``, not yet recorded)
    with out-of-fold probabilities from the current labels, so a label that
    looked fine to an early model is judged again by each better one. The model
    is ``learner`` (default: clones of the run's own) on ``features`` (an array
    aligned with the pool's positions, e.g. sentence embeddings of texts;
    default: the pool's rows), averaged over ``n_repeats`` fold draws. A label
    is a suspect when cleanlab's ``find_label_issues`` flags it and its
    out-of-fold probability is under ``self_confidence`` (default ``0.3 /
    n_classes``); it is checked once ``persist`` audits in a row have found it
    suspect (in the budget's last loop, at once), most suspicious first, at
    most ``max_checks`` a loop (``None``: all), at most once per run.

    A check asks ``oracle`` for a second label (``attempt=1``). ``resolve``
    says how a disagreement is settled: ``"majority"`` asks a third
    (``attempt=2``) and the majority of the three wins (the second when all
    differ); ``"model"`` takes the second label when it is the out-of-fold
    model's prediction (two votes against one, at no extra label) and asks a
    third only otherwise. Old labels are corrected in the pool
    (``Pool.relabel``), new ones in the returned labels, which then go to
    ``Loop.record``; every extra label is counted in the returned ``extra``
    (for ``LoopRecord.extra``).

    What the audit is scored on ("given the chance to check"): a label was
    given the chance when the audit of some loop ranked it while it was not
    yet checked: it was in the labelled set (old or new), its class had at
    least two labels then (a class with one label cannot be held out and
    learnt at once, so its records sit that loop out), and at least two such
    classes existed. ``log`` keeps, per ranking loop, the positions given the
    chance, their labels before the audit and the suspects checked.
    """

    def __init__(
        self,
        oracle: SecondOpinion | None,
        *,
        n_folds: int = 5,
        max_checks: int | None = None,
        filter_by: str = "prune_by_noise_rate",
        self_confidence: float | None = None,
        learner: Learner | None = None,
        features: Any = None,
        n_repeats: int = 3,
        resolve: str = "model",
        persist: int = 2,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if self_confidence is not None and not 0.0 < self_confidence <= 1.0:
            raise ConfigError(f"self_confidence must be in (0, 1]; got {self_confidence}")
        if n_folds < 2:
            raise ConfigError(f"the audit needs at least 2 folds; got n_folds={n_folds}")
        if max_checks is not None and max_checks < 0:
            raise ConfigError(f"max_checks must be at least 0; got {max_checks}")
        if n_repeats < 1:
            raise ConfigError(f"n_repeats must be at least 1; got {n_repeats}")
        if persist < 1:
            raise ConfigError(f"persist must be at least 1; got {persist}")
        if resolve not in RESOLVE_RULES:
            raise ConfigError(f"resolve must be one of {', '.join(RESOLVE_RULES)}; got {resolve!r}")
        self.oracle = oracle
        self.n_folds = n_folds
        self.max_checks = max_checks
        self.filter_by = filter_by
        self.self_confidence = self_confidence
        self.learner = learner
        self.features = features
        self.n_repeats = n_repeats
        self.resolve = resolve
        self.persist = persist
        self.clock = clock
        self._streak: dict[int, int] = {}  # position -> consecutive audits that flagged it
        self.checked: set[int] = set()
        # Per ranked loop: (loop index, positions ranked, their labels before the audit, suspect positions checked).
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
        # A class with a single label cannot be held out and learnt at once: its records sit this loop out.
        classes, class_counts = np.unique(y, return_counts=True)
        ranked = np.flatnonzero(np.isin(y, classes[class_counts >= 2]))
        learner = self.learner if self.learner is not None else loop.learner
        X = pool.rows(positions[ranked]) if self.features is None else self.features[positions[ranked]]
        seed = loop.seed + query.loop_index
        proba = out_of_fold_proba(learner, X, y[ranked], self.n_folds, seed=seed, n_repeats=self.n_repeats) if len(ranked) else None
        extra: dict[str, Any] = {"audit_suspects": 0, "audit_checked": 0, "audit_relabelled": 0, "audit_extra_labels": 0}
        suspects = np.zeros(0, dtype=np.int64)
        if proba is not None:
            fresh = np.asarray([int(p) not in self.checked for p in positions[ranked]], dtype=bool)
            flagged = ranked[self._suspects(y[ranked], proba, fresh)]
            if self.persist > 1:
                # A suspect is checked once it has been flagged by ``persist`` audits in a row (or at the
                # budget's last loop): a right label an early model doubts is often cleared by the next one.
                self._streak = {int(p): self._streak.get(int(p), 0) + 1 for p in positions[flagged]}
                last = loop.schedule.size_for(query.loop_index + 1, len(positions), len(pool) - len(positions), loop.records) == 0
                flagged = flagged[[last or self._streak[int(p)] >= self.persist for p in positions[flagged]]] if len(flagged) else flagged
            suspects = positions[flagged]
            extra["audit_suspects"] = len(flagged)
            if self.oracle is not None and len(flagged):
                predicted = proba.argmax(axis=1)[np.searchsorted(ranked, flagged)]
                new, counts = self._second_opinions(suspects, y[flagged], predicted, query.loop_index)
                y[flagged] = new
                n_old = len(old)
                in_old = flagged < n_old
                pool.relabel(positions[flagged[in_old]], new[in_old])
                labels[flagged[~in_old] - n_old] = new[~in_old]
                extra.update(counts)
            # Only the labels this loop could rank, not checked before, were given the chance to be checked.
            chance = ranked[fresh]
            self.log.append((query.loop_index, positions[chance], before[chance], suspects))
        extra["audit_seconds"] = self.clock() - start
        return labels, extra

    def _suspects(self, y: np.ndarray, proba: np.ndarray, fresh: np.ndarray) -> np.ndarray:
        """Indices into ``positions`` to check this loop: cleanlab's flags under the confidence limit, unchecked, capped."""
        flagged = rank_label_issues(y, proba, self.filter_by)
        if not len(flagged):
            return flagged
        # Precision guard: out-of-fold models trained on a few dozen hard (actively picked) records doubt
        # many right labels; only labels they give under the limit (0.3 of a uniform guess by default) are checked.
        limit = self.self_confidence if self.self_confidence is not None else 0.3 / len(np.unique(y))
        flagged = flagged[proba[flagged, y[flagged]] < limit]
        flagged = flagged[fresh[flagged]]
        return flagged if self.max_checks is None else flagged[: self.max_checks]

    def _second_opinions(
        self, suspects: np.ndarray, current: np.ndarray, predicted: np.ndarray, loop_index: int
    ) -> tuple[np.ndarray, dict[str, Any]]:
        assert self.oracle is not None
        second = self.oracle.answer(suspects, loop_index, attempt=1)
        new = current.copy()
        disagree = second != current
        if self.resolve == "model":
            # The model's out-of-fold prediction is the tie-breaking vote: second label and model against the first.
            settled = disagree & (second == predicted)
            new[settled] = second[settled]
            disagree &= ~settled
        ask = np.flatnonzero(disagree)
        n_extra = len(suspects)
        if len(ask):
            third = self.oracle.answer(suspects[ask], loop_index, attempt=2)
            n_extra += len(ask)
            # Majority of three; when all three differ the second opinion, on a record already in doubt, wins.
            keep_old = third == current[ask]
            new[ask] = np.where(keep_old, current[ask], second[ask])
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
