"""Regression learners with a predictive uncertainty: bootstrap committees, a Gaussian process, quantile boosting."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.base import clone as sk_clone
from sklearn.ensemble import BaggingRegressor, HistGradientBoostingRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from sklearn.linear_model import Ridge
from sklearn.tree import DecisionTreeRegressor
from threadpoolctl import threadpool_limits

from loopwise.core.tasks import REGRESSION
from loopwise.errors import ConfigError, LearnerError
from loopwise.learners._adapter import EstimatorLearner
from loopwise.learners._cache import EmbeddingCache


class BootstrapCommittee(BaggingRegressor):  # type: ignore[misc]  # sklearn ships no types
    """Bagging whose members' spread is the uncertainty: ``predict(X, return_std=True)`` gives their mean and std.

    A committee of models fit on bootstrap samples (Breiman 1996) estimates the
    predictive spread the way query-by-committee for regression reads it
    (Burbidge et al. 2007; RayChaudhuri & Hamey 1995).
    """

    def predict(self, X: Any, return_std: bool = False) -> Any:  # type: ignore[override]
        members = self.member_predictions(X)
        mean = members.mean(axis=0)
        return (mean, members.std(axis=0)) if return_std else mean

    def member_predictions(self, X: Any) -> np.ndarray:
        """``n_members x n`` predictions, one row per bootstrap model."""
        return np.stack(
            [est.predict(X[:, feats] if feats is not None and len(feats) < X.shape[1] else X)
             for est, feats in zip(self.estimators_, self.estimators_features_, strict=True)]
        )


class QuantileBoosting(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """Gradient boosting of three quantiles (16%, 50%, 84%): the median as the prediction, half the 16-84% range as its std.

    For a normal predictive distribution that half-range is one standard
    deviation; quantile loss learns it without assuming a constant noise
    (Meinshausen 2006 for the quantile view; scikit-learn's quantile loss).
    """

    def __init__(self, max_iter: int = 100, learning_rate: float = 0.1, min_samples_leaf: int = 5, seed: int = 0) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.min_samples_leaf = min_samples_leaf
        self.seed = seed

    def fit(self, X: Any, y: np.ndarray) -> QuantileBoosting:
        leaf = max(1, min(self.min_samples_leaf, len(y) // 4))
        with threadpool_limits(1, user_api="openmp"):  # see predict
            self.models_ = self._fit(X, y, leaf)
        return self

    def _fit(self, X: Any, y: np.ndarray, leaf: int) -> list[Any]:
        return [
            HistGradientBoostingRegressor(
                loss="quantile", quantile=q, max_iter=self.max_iter, learning_rate=self.learning_rate,
                min_samples_leaf=leaf, early_stopping=False, random_state=self.seed,
            ).fit(X, y)
            for q in (0.16, 0.5, 0.84)
        ]

    def predict(self, X: Any, return_std: bool = False) -> Any:
        # One OpenMP thread: on the small sets of active learning, a team of threads on a shared machine
        # made one fit of 60 rows take minutes (measured: 320 s for the three quantiles under load).
        with threadpool_limits(1, user_api="openmp"):
            low, mid, high = (m.predict(X) for m in self.models_)
        # Separately fit quantiles can cross; the spread is their distance either way.
        return (mid, np.abs(high - low) / 2.0) if return_std else mid


def bagging_trees(seed: int = 0, n_members: int = 20) -> BootstrapCommittee:
    """A bootstrap committee of regression trees (leaves of at least 3 records): non-linear, quick on small sets."""
    return BootstrapCommittee(
        estimator=DecisionTreeRegressor(min_samples_leaf=3, random_state=seed), n_estimators=n_members, random_state=seed
    )


def bagging_ridge(seed: int = 0, n_members: int = 20, alpha: float = 1.0) -> BootstrapCommittee:
    """A bootstrap committee of ridge regressions: the linear committee EMCM's model change assumes (Cai et al. 2013)."""
    return BootstrapCommittee(estimator=Ridge(alpha=alpha), n_estimators=n_members, random_state=seed)


def gaussian_process(seed: int = 0) -> GaussianProcessRegressor:
    """An RBF Gaussian process with a learnt noise level, targets normalised: exact posterior std, for small pools (O(n³))."""
    kernel = ConstantKernel(1.0) * RBF(length_scale=1.0) + WhiteKernel(noise_level=0.1)
    return GaussianProcessRegressor(kernel=kernel, normalize_y=True, n_restarts_optimizer=0, random_state=seed)


def quantile_boosting(seed: int = 0) -> QuantileBoosting:
    """Histogram gradient boosting of the 16/50/84% quantiles (see :class:`QuantileBoosting`)."""
    return QuantileBoosting(seed=seed)


class RegressionLearner(EstimatorLearner):
    """A scikit-learn regressor with ``predict(X, return_std=True)``; ``predict_proba`` gives the ``n x 2`` mean and std.

    That two-column output is the regression form of the loop's model output
    (``StrategyInputs.proba``): strategies read the mean from column 0 and the
    predictive standard deviation from column 1. ``n_classes`` is 1 (one target).
    """

    task = REGRESSION

    def __init__(self, estimator: Any, n_classes: int = 1, embedding_cache: EmbeddingCache | None = None) -> None:
        if not hasattr(estimator, "fit") or not hasattr(estimator, "predict"):
            raise ConfigError(f"regression learner {type(estimator).__name__} needs fit() and predict()")
        self.estimator = estimator
        self.n_classes = 1
        self.embedding_cache = embedding_cache
        self.model_: Any = None

    def clone(self) -> RegressionLearner:
        return RegressionLearner(self.estimator, 1, self.embedding_cache)

    takes_sample_weight = False  # regression fits train unweighted

    def fit(self, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None) -> None:
        if sample_weight is not None:
            raise ConfigError(f"regression learners train unweighted; {self.name} takes no sample_weight")
        self.model_ = sk_clone(self.estimator).fit(X, np.asarray(y, dtype=np.float64))

    def fit_more(self, X: Any, y: np.ndarray, *, new_only: bool) -> None:
        raise ConfigError(f"regression learners retrain from scratch; {self.name} cannot continue training")

    def predict_proba(self, X: Any) -> np.ndarray:
        """``n x 2``: the predictive mean and standard deviation of each row."""
        if self.model_ is None:
            raise LearnerError(f"{self.name} has not been fitted yet")
        try:
            mean, std = self.model_.predict(X, return_std=True)
        except TypeError:
            raise ConfigError(
                f"{self.name} gives no predictive standard deviation (predict(X, return_std=True)); "
                "use a regression learner with uncertainty: bagging_trees, bagging_ridge, gp, quantile_hgb"
            ) from None
        out = np.column_stack([np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)])
        bad = ~np.isfinite(out).all(axis=1)
        if bad.any():
            raise LearnerError(f"{self.name} predicted a non-finite mean or std for row {int(np.flatnonzero(bad)[0])}")
        return out

    def member_predictions(self, X: Any) -> np.ndarray:
        """``n_members x n`` predictions of a committee learner (for EMCM), else a LearnerError."""
        members = getattr(self.model_, "member_predictions", None)
        if members is None:
            raise LearnerError(f"{self.name} is not a committee")
        return np.asarray(members(X), dtype=np.float64)

    @property
    def predict_proba_samples(self) -> Any:
        raise AttributeError(f"{self.name} draws no posterior samples")
