"""What a peer library's strategy sees and returns, and the sklearn view of the harness's fitted model."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin

from loopwise.errors import ConfigError


@dataclass(frozen=True)
class PeerQuery:
    """One selection request, the same inputs every library gets.

    ``X`` holds every pool row (dense or CSR, exactly what loopwise's loop
    sees); ``labelled`` the labelled positions in the order they were
    labelled and ``y_labelled`` their classes. ``model`` is the harness's
    learner fitted on exactly that labelled set (a :class:`FrozenClassifier`),
    so uncertainty peers score the same probabilities loopwise does.
    ``make_estimator`` builds a fresh, unfitted protocol learner for peers
    that train their own members (committees). ``seed`` is an integer
    derived from the cell's seed and the loop index.
    """

    X: Any
    labelled: np.ndarray
    y_labelled: np.ndarray
    n_classes: int
    batch_size: int
    model: FrozenClassifier
    make_estimator: Any
    seed: int
    loop_index: int

    @property
    def unlabelled(self) -> np.ndarray:
        mask = np.ones(self.X.shape[0], dtype=bool)
        mask[self.labelled] = False
        return np.flatnonzero(mask)

    def dense_X(self) -> np.ndarray:
        """``X`` as a dense float32 array, for peers that refuse sparse input."""
        return self.X.toarray() if sp.issparse(self.X) else np.asarray(self.X)


class PeerStrategy(abc.ABC):
    """A peer library's query strategy behind one call: ``select(query) -> pool positions``.

    ``library`` is the library's display name, ``method`` the loopwise
    strategy it implements (``margin``, ``qbc``, ``kcenter``, ...), and
    ``name`` is ``<prefix>:<method>``, the strategy name the bench uses.
    """

    library: ClassVar[str]
    prefix: ClassVar[str]
    distribution: ClassVar[str]
    module: ClassVar[str]
    method: ClassVar[str]
    notes: ClassVar[str] = ""

    @property
    def name(self) -> str:
        return f"{self.prefix}:{self.method}"

    @abc.abstractmethod
    def select(self, query: PeerQuery) -> np.ndarray:
        """Positions (into ``query.X``) of the next ``query.batch_size`` records to label."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class FrozenClassifier(ClassifierMixin, BaseEstimator):
    """A scikit-learn view of the harness's already fitted learner.

    ``predict_proba`` spans the full label set (``classes_`` is
    ``0..n_classes-1``), exactly the probabilities loopwise's strategies see.
    ``fit`` does nothing: the harness trained the model on the very rows a
    peer's learner wrapper hands to ``fit`` (modAL's ``ActiveLearner`` refits
    on construction).
    """

    def __init__(self, learner: Any = None, n_classes: int = 2) -> None:
        self.learner = learner
        self.n_classes = n_classes

    def fit(self, X: Any, y: Any, **kwargs: Any) -> FrozenClassifier:
        self.classes_ = np.arange(self.n_classes)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.asarray(self.learner.predict_proba(X), dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray:
        return self.predict_proba(X).argmax(axis=1)

    def __sklearn_is_fitted__(self) -> bool:
        return True


class ProtocolClassifier(ClassifierMixin, BaseEstimator):
    """The protocol learner as a plain scikit-learn classifier, for peers that train their own members.

    It is loopwise's :class:`~loopwise.learners.EstimatorLearner` behind the
    estimator API: probabilities over the full label set, and a prior-only
    model while a (bootstrap) sample holds a single class, where a bare
    ``LogisticRegression`` would refuse to fit. Committee members of every
    library therefore differ only in how the library builds the committee.
    """

    def __init__(self, estimator: Any = None, n_classes: int = 2) -> None:
        self.estimator = estimator
        self.n_classes = n_classes

    def fit(self, X: Any, y: Any, **kwargs: Any) -> ProtocolClassifier:
        from loopwise.learners import EstimatorLearner

        self.learner_ = EstimatorLearner(self.estimator, self.n_classes)
        self.learner_.fit(X, np.asarray(y).astype(np.int64))
        self.classes_ = np.arange(self.n_classes)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.asarray(self.learner_.predict_proba(X), dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray:
        return self.predict_proba(X).argmax(axis=1)


def require(module: str, distribution: str) -> Any:
    """Import a peer library, or say which extra installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(
            f"peer library {distribution} is not installed ({exc}); install the bench extra: pip install 'loopwise[bench]'"
        ) from None
