"""scikit-activeml adapters: UncertaintySampling (lc, margin, entropy), QueryByCommittee and CoreSet."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from loopwise.bench.peers._base import PeerQuery, PeerStrategy, require

COMMITTEE_SIZE = 5


class _SkactivemlPeer(PeerStrategy):
    """scikit-activeml works on the whole pool with ``nan`` marking unlabelled rows, and on dense arrays only.

    Its input validation refuses sparse matrices ("dense data is
    required"), so text features are densified here.
    """

    library = "scikit-activeml"
    prefix = "skactiveml"
    distribution = "scikit-activeml"
    module = "skactiveml.pool"

    @staticmethod
    def _pool(query: PeerQuery) -> tuple[np.ndarray, np.ndarray]:
        require("skactiveml", "scikit-activeml")
        y = np.full(query.X.shape[0], np.nan)
        y[query.labelled] = query.y_labelled
        return query.dense_X(), y


class _SkactivemlUncertainty(_SkactivemlPeer):
    """``skactiveml.pool.UncertaintySampling`` with the harness's fitted model (``fit_clf=False``).

    The model is wrapped in skactiveml's ``SklearnClassifier``; by default
    skactiveml refits a clone inside every ``query``, which would train the
    same logistic regression again on the same rows, so the fitted one is
    passed instead and the probabilities equal loopwise's.
    """

    _method: ClassVar[str] = "least_confident"

    def select(self, query: PeerQuery) -> np.ndarray:
        X, y = self._pool(query)
        from skactiveml.classifier import SklearnClassifier
        from skactiveml.pool import UncertaintySampling

        clf = SklearnClassifier(query.model, classes=np.arange(query.n_classes), random_state=query.seed).fit(X, y)
        strategy = UncertaintySampling(method=self._method, random_state=query.seed)
        return np.asarray(strategy.query(X, y, clf, fit_clf=False, batch_size=query.batch_size), dtype=np.int64)


class SkactivemlLeastConfidence(_SkactivemlUncertainty):
    """``UncertaintySampling(method='least_confident')``; ties broken at random (``rand_argmax``)."""

    method = "least_confidence"
    _method = "least_confident"


class SkactivemlMargin(_SkactivemlUncertainty):
    """``UncertaintySampling(method='margin_sampling')``."""

    method = "margin"
    _method = "margin_sampling"


class SkactivemlEntropy(_SkactivemlUncertainty):
    """``UncertaintySampling(method='entropy')``."""

    method = "entropy"
    _method = "entropy"


class SkactivemlQBC(_SkactivemlPeer):
    """``QueryByCommittee(method='vote_entropy')`` over ``SklearnClassifier(BaggingClassifier(LR, 5))``.

    skactiveml takes a committee as an ensemble with ``estimators_``; a
    5-member ``BaggingClassifier`` of the protocol's logistic regression is
    the scikit-learn way to build one. skactiveml fits the ensemble inside
    ``query``. When a bootstrap sample holds one class, the bagging fit fails
    and skactiveml falls back to class-count priors (all members agree, the
    batch is then a random tie-break).
    """

    method = "qbc"

    def select(self, query: PeerQuery) -> np.ndarray:
        X, y = self._pool(query)
        from sklearn.ensemble import BaggingClassifier
        from skactiveml.classifier import SklearnClassifier
        from skactiveml.pool import QueryByCommittee

        bagging = BaggingClassifier(query.make_estimator(), n_estimators=COMMITTEE_SIZE, random_state=query.seed)
        ensemble = SklearnClassifier(bagging, classes=np.arange(query.n_classes), random_state=query.seed)
        strategy = QueryByCommittee(method="vote_entropy", random_state=query.seed)
        return np.asarray(strategy.query(X, y, ensemble, batch_size=query.batch_size), dtype=np.int64)


class SkactivemlCoreSet(_SkactivemlPeer):
    """``skactiveml.pool.CoreSet``: greedy k-center over the features, euclidean (Sener & Savarese 2018)."""

    method = "kcenter"

    def select(self, query: PeerQuery) -> np.ndarray:
        X, y = self._pool(query)
        from skactiveml.pool import CoreSet

        strategy = CoreSet(random_state=query.seed)
        return np.asarray(strategy.query(X, y, batch_size=query.batch_size), dtype=np.int64)


class SkactivemlTypiClust(_SkactivemlPeer):
    """``skactiveml.pool.TypiClust`` (Hacohen et al. 2022)."""

    method = "typiclust"

    def select(self, query: PeerQuery) -> np.ndarray:
        X, y = self._pool(query)
        from skactiveml.pool import TypiClust

        return np.asarray(TypiClust(random_state=query.seed).query(X, y, batch_size=query.batch_size), dtype=np.int64)


class SkactivemlBadge(_SkactivemlPeer):
    """``skactiveml.pool.Badge`` with the harness's fitted model (Ash et al. 2020)."""

    method = "badge"

    def select(self, query: PeerQuery) -> np.ndarray:
        X, y = self._pool(query)
        from skactiveml.classifier import SklearnClassifier
        from skactiveml.pool import Badge

        clf: Any = SklearnClassifier(query.model, classes=np.arange(query.n_classes), random_state=query.seed).fit(X, y)
        strategy = Badge(random_state=query.seed)
        return np.asarray(strategy.query(X, y, clf, fit_clf=False, batch_size=query.batch_size), dtype=np.int64)


STRATEGIES: tuple[type[PeerStrategy], ...] = (
    SkactivemlLeastConfidence,
    SkactivemlMargin,
    SkactivemlEntropy,
    SkactivemlQBC,
    SkactivemlCoreSet,
    SkactivemlTypiClust,
    SkactivemlBadge,
)
