"""small-text adapters: LeastConfidence, BreakingTies, PredictionEntropy and GreedyCoreset over its sklearn wrappers."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np

from loopwise.bench.peers._base import PeerQuery, PeerStrategy, require


class _SmallTextPeer(PeerStrategy):
    library = "small-text"
    prefix = "small_text"
    distribution = "small-text"
    module = "small_text"
    _class: ClassVar[str] = ""

    def _strategy(self) -> Any:
        return getattr(require("small_text", self.distribution), self._class)()

    def _inputs(self, query: PeerQuery) -> tuple[Any, Any]:
        """small-text's ``SklearnClassifier`` around the fitted model, and the pool as a ``SklearnDataset``."""
        require("small_text", self.distribution)
        from small_text import SklearnDataset
        from small_text.base import LABEL_UNLABELED
        from small_text.classifiers import SklearnClassifier

        y = np.full(query.X.shape[0], LABEL_UNLABELED, dtype=np.int64)
        y[query.labelled] = query.y_labelled
        dataset = SklearnDataset(query.X, y, target_labels=np.arange(query.n_classes))
        return SklearnClassifier(query.model, query.n_classes), dataset

    def select(self, query: PeerQuery) -> np.ndarray:
        with warnings.catch_warnings():
            # small-text 1.4 calls its own deprecated get_flattened_unique_labels when building datasets.
            warnings.simplefilter("ignore", DeprecationWarning)
            clf, dataset = self._inputs(query)
            picked = self._strategy().query(
                clf, dataset, query.unlabelled, np.asarray(query.labelled), query.y_labelled, n=query.batch_size
            )
        return np.asarray(picked, dtype=np.int64)


class SmallTextLeastConfidence(_SmallTextPeer):
    """``small_text.LeastConfidence`` (``argpartition`` over the unlabelled confidences, ties in its order)."""

    method = "least_confidence"
    _class = "LeastConfidence"


class SmallTextBreakingTies(_SmallTextPeer):
    """``small_text.BreakingTies``: the margin between the two most likely classes (Luo et al. 2005)."""

    method = "margin"
    _class = "BreakingTies"


class SmallTextEntropy(_SmallTextPeer):
    """``small_text.PredictionEntropy``."""

    method = "entropy"
    _class = "PredictionEntropy"


class SmallTextGreedyCoreset(_SmallTextPeer):
    """``small_text.GreedyCoreset`` (euclidean, L2-normalised rows) over the pool features as embeddings.

    Its ``SklearnClassifier`` has no ``embed()``, so the features every
    strategy sees are passed as ``embeddings=``. small-text splits the rows
    with ``np.array_split``, which fails on sparse matrices (``AxisError``),
    so text features are densified here.
    """

    method = "kcenter"

    def select(self, query: PeerQuery) -> np.ndarray:
        small_text = require("small_text", self.distribution)
        with warnings.catch_warnings():
            # "Default distance metric has changed ..." is printed for the very metric we ask for,
            # and small-text 1.4 calls its own deprecated get_flattened_unique_labels.
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            clf, dataset = self._inputs(query)
            strategy = small_text.GreedyCoreset(distance_metric="euclidean", normalize=True)
            picked = strategy.query(
                clf,
                dataset,
                query.unlabelled,
                np.asarray(query.labelled),
                query.y_labelled,
                n=query.batch_size,
                # small-text takes given embeddings in the order it builds its subset: the
                # unlabelled rows, then the labelled ones (what clf.embed(dataset[subset]) returns).
                embeddings=query.dense_X()[np.concatenate([query.unlabelled, np.asarray(query.labelled)])],
            )
        return np.asarray(picked, dtype=np.int64)


STRATEGIES: tuple[type[PeerStrategy], ...] = (
    SmallTextLeastConfidence,
    SmallTextBreakingTies,
    SmallTextEntropy,
    SmallTextGreedyCoreset,
)
