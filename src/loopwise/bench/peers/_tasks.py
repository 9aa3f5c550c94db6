"""Peer versions of the multilabel and regression strategies, as loopwise strategies that call the peer to select.

scikit-activeml's ``GreedySamplingX`` (GSx) and ``GreedySamplingTarget`` (GSy, GSi = iGS; Wu et al. 2019)
and small-text's ``CategoryVectorInconsistencyAndRanking`` (CVIRS; Reyes et al. 2018). The loop trains and
evaluates; the peer sees the same model outputs and labelled set as our own strategy and only picks.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin

from loopwise.bench.peers._base import require
from loopwise.core.records import Selection
from loopwise.strategies._base import FEATURES, LABELS, PROBA, Strategy, StrategyInputs
from loopwise.strategies._capabilities import MULTILABEL, REGRESSION, Capabilities


class _Predictions(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """A regressor that answers the loop model's means, looked up by feature row, for peers that call ``predict``."""

    def __init__(self, lookup: dict[bytes, float] | None = None) -> None:
        self.lookup = lookup

    def fit(self, X: Any, y: Any = None) -> _Predictions:
        return self

    def predict(self, X: Any) -> np.ndarray:
        table = self.lookup or {}
        return np.asarray([table[row.tobytes()] for row in np.asarray(X, dtype=np.float64)])


def _dense(X: Any) -> np.ndarray:
    return np.ascontiguousarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)


def skactiveml_greedy(method: str, inputs: StrategyInputs, batch_size: int, seed: int) -> np.ndarray:
    """Candidate positions chosen by scikit-activeml's greedy sampling: ``'GSx'``, ``'GSy'`` or ``'GSi'`` (iGS).

    scikit-activeml sees the labelled rows then the candidates, NaN marking the unlabelled, and a
    regressor that answers the loop model's mean for each candidate row.
    """
    require("skactiveml", "scikit-activeml")
    from skactiveml.pool import GreedySamplingTarget, GreedySamplingX
    from skactiveml.regressor import SklearnRegressor

    labelled, cands = _dense(inputs.require("labelled_features")), _dense(inputs.require("features"))
    X = np.vstack([labelled, cands])
    n_lab = len(labelled)
    candidates = np.arange(n_lab, len(X))
    y = np.full(len(X), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "GSx":
            y[:n_lab] = 0.0  # GSx reads only which rows are labelled
            picked = GreedySamplingX(random_state=seed).query(X, y, candidates=candidates, batch_size=batch_size)
        else:
            y[:n_lab] = np.asarray(inputs.require("labelled_labels"), dtype=np.float64)
            means = np.asarray(inputs.require("proba"), dtype=np.float64)[:, 0]
            lookup = {row.tobytes(): float(m) for row, m in zip(cands, means, strict=True)}
            reg = SklearnRegressor(_Predictions(lookup), random_state=seed).fit(X[:n_lab], y[:n_lab])
            strategy = GreedySamplingTarget(method=method, random_state=seed)
            picked = strategy.query(X, y, reg, fit_reg=False, candidates=candidates, batch_size=batch_size)
    return np.asarray(picked, dtype=np.int64) - n_lab


def small_text_cvirs(inputs: StrategyInputs, batch_size: int) -> np.ndarray:
    """Candidate positions chosen by small-text's ``CategoryVectorInconsistencyAndRanking`` on the loop's marginals."""
    require("small_text", "small-text")
    from scipy.sparse import csr_matrix
    from small_text.query_strategies import CategoryVectorInconsistencyAndRanking

    proba = np.asarray(inputs.require("proba"), dtype=np.float64)
    Y = csr_matrix(np.asarray(inputs.require("labelled_labels"), dtype=np.int64))
    strategy = CategoryVectorInconsistencyAndRanking(pbar=None)
    scores = strategy._compute_scores(np.arange(len(proba)), Y, proba)  # its query() calls clf.predict_proba on a dataset
    if batch_size >= len(scores):
        return np.arange(len(scores))
    return np.asarray(np.argpartition(-scores, batch_size)[:batch_size], dtype=np.int64)


class _PeerStrategy(Strategy):
    """A peer's selection inside loopwise's loop (the harness trains and evaluates, the peer picks)."""

    def _picks(self, inputs: StrategyInputs, batch_size: int, seed: int) -> np.ndarray:
        raise NotImplementedError

    def select(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> Selection:
        positions = self._picks(inputs, batch_size, int(rng.integers(2**31 - 1)))
        return Selection(positions=positions, scores=np.zeros(len(positions)))


class SkactivemlGSx(_PeerStrategy):
    """``skactiveml.pool.GreedySamplingX``."""

    name = "skactiveml:gsx"
    requires = frozenset({FEATURES})
    capabilities = Capabilities(tasks=frozenset({REGRESSION}))

    def _picks(self, inputs: StrategyInputs, batch_size: int, seed: int) -> np.ndarray:
        return skactiveml_greedy("GSx", inputs, batch_size, seed)


class SkactivemlGSy(_PeerStrategy):
    """``skactiveml.pool.GreedySamplingTarget(method='GSy')``."""

    name = "skactiveml:gsy"
    requires = frozenset({FEATURES, PROBA, LABELS})
    capabilities = Capabilities(tasks=frozenset({REGRESSION}))

    def _picks(self, inputs: StrategyInputs, batch_size: int, seed: int) -> np.ndarray:
        return skactiveml_greedy("GSy", inputs, batch_size, seed)


class SkactivemlIGS(_PeerStrategy):
    """``skactiveml.pool.GreedySamplingTarget(method='GSi')``: iGS."""

    name = "skactiveml:igs"
    requires = frozenset({FEATURES, PROBA, LABELS})
    capabilities = Capabilities(tasks=frozenset({REGRESSION}))

    def _picks(self, inputs: StrategyInputs, batch_size: int, seed: int) -> np.ndarray:
        return skactiveml_greedy("GSi", inputs, batch_size, seed)


class SmallTextCVIRS(_PeerStrategy):
    """``small_text.query_strategies.CategoryVectorInconsistencyAndRanking`` (small-text 1.4)."""

    name = "small_text:cvirs"
    requires = frozenset({PROBA, LABELS})
    capabilities = Capabilities(tasks=frozenset({MULTILABEL}))

    def _picks(self, inputs: StrategyInputs, batch_size: int, seed: int) -> np.ndarray:
        return small_text_cvirs(inputs, batch_size)


TASK_PEERS: tuple[type[Strategy], ...] = (SkactivemlGSx, SkactivemlGSy, SkactivemlIGS, SmallTextCVIRS)
