"""Noisy simulated annotators for experiments: uniform or class-conditional noise, several annotators, abstention."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from loopwise.core.records import Query
from loopwise.errors import ConfigError

ABSTAIN = -1
# Stream of the run's random tree reserved for simulated label noise (loop/_loop.py uses 0..3).
_NOISE_STREAM = 10


def noise_rng(seed: int, loop_index: int, annotator: int = 0, attempt: int = 0) -> np.random.Generator:
    """The generator of one annotator's answers in one loop, keyed like ``loop_rng`` so a resumed run draws the same."""
    return np.random.default_rng([seed, _NOISE_STREAM, loop_index, annotator, attempt])


def uniform_confusion(n_classes: int, accuracy: float) -> np.ndarray:
    """Row-stochastic matrix: right with ``accuracy``, else any other class with equal chance."""
    _check_accuracy(accuracy, n_classes)
    if n_classes < 2:
        return np.ones((1, 1))
    off = (1.0 - accuracy) / (n_classes - 1)
    matrix = np.full((n_classes, n_classes), off)
    np.fill_diagonal(matrix, accuracy)
    return matrix


def class_conditional_confusion(n_classes: int, accuracy: float, seed: int, concentration: float = 0.3) -> np.ndarray:
    """Row-stochastic matrix whose errors concentrate on a few look-alike classes (a Dirichlet draw per row)."""
    _check_accuracy(accuracy, n_classes)
    if n_classes < 2:
        return np.ones((1, 1))
    rng = np.random.default_rng([seed, _NOISE_STREAM, 999])
    matrix = np.zeros((n_classes, n_classes))
    for k in range(n_classes):
        others = [j for j in range(n_classes) if j != k]
        matrix[k, others] = (1.0 - accuracy) * rng.dirichlet(np.full(len(others), concentration))
        matrix[k, k] = accuracy
    return matrix


def _check_accuracy(accuracy: float, n_classes: int) -> None:
    if not 0.0 <= accuracy <= 1.0:
        raise ConfigError(f"annotator accuracy must be in [0, 1]; got {accuracy}")
    if n_classes < 1:
        raise ConfigError(f"n_classes must be at least 1; got {n_classes}")


def draw_labels(y_true: np.ndarray, confusion: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One noisy label per true label, drawn from the confusion row of its class (inverse-CDF, vectorised)."""
    cdf = np.cumsum(confusion, axis=1)
    cdf[:, -1] = 1.0
    u = rng.random(len(y_true))
    return (u[:, None] > cdf[np.asarray(y_true, dtype=np.int64)]).sum(axis=1).astype(np.int64)


class NoisyOracle:
    """One simulated annotator who answers from ground truth through a confusion matrix.

    ``noise`` is the error rate; ``kind`` is ``"uniform"`` (a wrong answer is any
    other class) or ``"class_conditional"`` (wrong answers fall on a few
    look-alike classes); ``confusion`` overrides both. ``collect(query, attempt)``
    draws from a generator keyed by (seed, loop, attempt): a resumed run gets the
    same answers, and a second opinion (``attempt=1``) is an independent draw.
    """

    def __init__(
        self,
        y_true: np.ndarray,
        n_classes: int,
        noise: float = 0.0,
        *,
        seed: int = 0,
        kind: str = "uniform",
        confusion: np.ndarray | None = None,
    ) -> None:
        if kind not in ("uniform", "class_conditional"):
            raise ConfigError(f"noise kind must be 'uniform' or 'class_conditional'; got {kind!r}")
        self.y_true = np.asarray(y_true, dtype=np.int64)
        self.n_classes = n_classes
        self.noise = noise
        self.seed = seed
        self.kind = kind
        if confusion is not None:
            self.confusion = _check_confusion(np.asarray(confusion, dtype=np.float64), n_classes)
        elif kind == "uniform":
            self.confusion = uniform_confusion(n_classes, 1.0 - noise)
        else:
            self.confusion = class_conditional_confusion(n_classes, 1.0 - noise, seed)
        self.n_asked = 0

    def collect(self, query: Query, attempt: int = 0) -> np.ndarray:
        """Noisy labels for ``query.positions``; ``attempt > 0`` asks the same records again independently."""
        return self.answer(query.positions, query.loop_index, attempt)

    def answer(self, positions: np.ndarray, loop_index: int, attempt: int = 0) -> np.ndarray:
        """Noisy labels for pool ``positions`` in loop ``loop_index``; counts every label asked for."""
        positions = np.asarray(positions, dtype=np.int64)
        self.n_asked += len(positions)
        return draw_labels(self.y_true[positions], self.confusion, noise_rng(self.seed, loop_index, 0, attempt))


def _check_confusion(confusion: np.ndarray, n_classes: int) -> np.ndarray:
    if confusion.shape != (n_classes, n_classes):
        raise ConfigError(f"confusion matrix must be {n_classes} x {n_classes}; got {confusion.shape}")
    if (confusion < 0).any() or not np.allclose(confusion.sum(axis=1), 1.0):
        raise ConfigError("confusion matrix rows must be non-negative and sum to 1")
    return confusion


class AnnotatorPanel:
    """Several simulated annotators of their own accuracies (or confusion matrices), each may abstain.

    ``answer(positions, loop_index)`` returns an ``n x n_annotators`` matrix of
    class indices with ``-1`` where an annotator abstained; annotator ``a`` draws
    from its own generator keyed by (seed, loop, a, attempt).
    """

    def __init__(
        self,
        y_true: np.ndarray,
        n_classes: int,
        accuracies: Sequence[float] = (0.9, 0.75, 0.6),
        *,
        seed: int = 0,
        kind: str = "uniform",
        confusions: Sequence[np.ndarray] | None = None,
        abstain: float | Sequence[float] = 0.0,
    ) -> None:
        if kind not in ("uniform", "class_conditional"):
            raise ConfigError(f"noise kind must be 'uniform' or 'class_conditional'; got {kind!r}")
        self.y_true = np.asarray(y_true, dtype=np.int64)
        self.n_classes = n_classes
        self.seed = seed
        if confusions is not None:
            self.confusions = [_check_confusion(np.asarray(c, dtype=np.float64), n_classes) for c in confusions]
        elif kind == "uniform":
            self.confusions = [uniform_confusion(n_classes, a) for a in accuracies]
        else:
            self.confusions = [class_conditional_confusion(n_classes, a, seed + i) for i, a in enumerate(accuracies)]
        if not self.confusions:
            raise ConfigError("an annotator panel needs at least one annotator")
        rates = [float(abstain)] * len(self.confusions) if np.isscalar(abstain) else [float(a) for a in abstain]  # type: ignore[arg-type,union-attr]
        if len(rates) != len(self.confusions) or any(not 0.0 <= r < 1.0 for r in rates):
            raise ConfigError(f"abstain needs one rate in [0, 1) per annotator; got {abstain}")
        self.abstain = rates
        self.n_asked = 0

    @property
    def n_annotators(self) -> int:
        """How many annotators the panel has."""
        return len(self.confusions)

    @property
    def accuracies(self) -> np.ndarray:
        """Each annotator's true accuracy under a uniform class prior (the mean of its confusion diagonal)."""
        return np.array([float(np.diag(c).mean()) for c in self.confusions])

    def answer(self, positions: np.ndarray, loop_index: int, attempt: int = 0, annotators: Sequence[int] | None = None) -> np.ndarray:
        """``len(positions) x n_annotators`` labels, ``-1`` for abstentions and for annotators not asked."""
        positions = np.asarray(positions, dtype=np.int64)
        asked = range(self.n_annotators) if annotators is None else annotators
        out = np.full((len(positions), self.n_annotators), ABSTAIN, dtype=np.int64)
        truth = self.y_true[positions]
        for a in asked:
            rng = noise_rng(self.seed, loop_index, a, attempt)
            labels = draw_labels(truth, self.confusions[a], rng)
            keep = rng.random(len(positions)) >= self.abstain[a]
            out[keep, a] = labels[keep]
            self.n_asked += int(keep.sum())
        return out

    def collect(self, query: Query) -> np.ndarray:
        """The panel's answers for ``query.positions`` in its loop."""
        return self.answer(query.positions, query.loop_index)
