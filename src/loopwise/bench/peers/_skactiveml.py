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
    """``QueryByCommittee(method='vote_entropy')`` over 5 ``SklearnClassifier`` members, each on a bootstrap sample.

    The obvious committee, ``SklearnClassifier(BaggingClassifier(LR, 5))``,
    crashes as soon as a bootstrap sample holds a single class (frequent with
    20 initial labels and a rare class): ``BaggingClassifier.fit`` raises,
    skactiveml's wrapper catches it and falls back to class priors, but the
    half-fitted bagging keeps an empty ``estimators_``, so
    ``QueryByCommittee`` takes an empty committee and ``vote_entropy`` raises
    ``ValueError: Expected 2D array``. The adapter therefore bags by hand and
    hands skactiveml a list of fitted members (``fit_ensemble=False``): each
    is skactiveml's own ``SklearnClassifier`` around the protocol's logistic
    regression, so a one-class bootstrap makes that member (only) fall back
    to its class-count prior, skactiveml's documented behaviour.
    """

    method = "qbc"

    def select(self, query: PeerQuery) -> np.ndarray:
        X, y = self._pool(query)
        from skactiveml.classifier import SklearnClassifier
        from skactiveml.pool import QueryByCommittee

        rng = np.random.RandomState(query.seed)
        X_labelled = X[query.labelled]
        members = []
        for i in range(COMMITTEE_SIZE):
            boot = rng.randint(0, len(query.labelled), len(query.labelled))
            member = SklearnClassifier(query.make_estimator(), classes=np.arange(query.n_classes), random_state=(query.seed + i) % 2**32)
            members.append(member.fit(X_labelled[boot], query.y_labelled[boot]))
        strategy = QueryByCommittee(method="vote_entropy", random_state=query.seed)
        return np.asarray(strategy.query(X, y, members, fit_ensemble=False, batch_size=query.batch_size), dtype=np.int64)


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
