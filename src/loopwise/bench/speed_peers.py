"""The peer libraries' equivalents of loopwise's strategies, as one timed call each, for ``loopwise bench speed``.

Each builder gets the prepared pool (:class:`SpeedData`) and the batch size,
does every piece of set-up a user of that library would do once (wrapping
the fitted model, building a committee, a dataset object) and returns the
zero-argument call that one selection costs. Peers receive the same fitted
scikit-learn models loopwise's strategies run on and call their
``predict_proba`` themselves, as in normal use. Where a peer breaks on the
current NumPy or scikit-learn the work-around is here (or in the quality
adapters it reuses) and is named in :data:`NOTES`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class SpeedData:
    """One pool as every library sees it: the last ``n_labelled`` rows are the labelled ones.

    ``X`` is ``n x d`` float32. ``model`` is a fitted multinomial
    ``LogisticRegression`` on the labelled rows and ``committee`` five more
    on bootstrap samples of them.
    """

    X: np.ndarray
    y_labelled: np.ndarray
    n_classes: int
    model: Any
    committee: list[Any]

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_labelled(self) -> int:
        return int(self.y_labelled.shape[0])

    @property
    def unlabelled(self) -> np.ndarray:
        """The candidate rows (a view: no copy)."""
        return self.X[: self.n - self.n_labelled]

    @property
    def labelled(self) -> np.ndarray:
        return self.X[self.n - self.n_labelled :]

    @property
    def labelled_positions(self) -> np.ndarray:
        return np.arange(self.n - self.n_labelled, self.n)

    @property
    def unlabelled_positions(self) -> np.ndarray:
        return np.arange(self.n - self.n_labelled)


Call = Callable[[], Any]
Builder = Callable[[SpeedData, int, int], Call]

# -- modAL ------------------------------------------------------------------------------


def _modal_function(module: str, function: str) -> Builder:
    def build(data: SpeedData, batch: int, seed: int) -> Call:
        import importlib

        fn = getattr(importlib.import_module(module), function)
        X = data.unlabelled
        return lambda: fn(data.model, X, n_instances=batch)

    return build


def _modal_learner(data: SpeedData, estimator: Any) -> Any:
    from loopwise.bench.peers._base import FrozenClassifier
    from loopwise.bench.peers._modal import _modal

    _modal()  # its check_X_y keyword, renamed in scikit-learn 1.6 and removed in 1.8
    from modAL.models import ActiveLearner

    frozen = FrozenClassifier(estimator, data.n_classes)
    return ActiveLearner(estimator=frozen, X_training=data.labelled, y_training=data.y_labelled)


def _modal_ranked_batch(data: SpeedData, batch: int, seed: int) -> Call:
    from modAL.batch import uncertainty_batch_sampling

    learner = _modal_learner(data, data.model)
    X = data.unlabelled
    return lambda: uncertainty_batch_sampling(learner, X, n_instances=batch)


def _modal_qbc(data: SpeedData, batch: int, seed: int) -> Call:
    from modAL.disagreement import vote_entropy_sampling
    from modAL.models import Committee

    committee = Committee(learner_list=[_modal_learner(data, m) for m in data.committee], query_strategy=vote_entropy_sampling)
    X = data.unlabelled
    return lambda: committee.query(X, n_instances=batch)


def _modal_information_density(data: SpeedData, batch: int, seed: int) -> Call:
    from modAL.density import information_density
    from modAL.uncertainty import classifier_entropy
    from modAL.utils.selection import multi_argmax

    X = data.unlabelled

    def call() -> Any:
        scores = classifier_entropy(data.model, X) * information_density(X, metric="cosine")
        return multi_argmax(scores, n_instances=batch)

    return call


# -- small-text -------------------------------------------------------------------------


def _small_text_inputs(data: SpeedData) -> tuple[Any, Any, np.ndarray, np.ndarray]:
    from small_text import SklearnDataset
    from small_text.base import LABEL_UNLABELED
    from small_text.classifiers import SklearnClassifier

    y = np.full(data.n, LABEL_UNLABELED, dtype=np.int64)
    y[data.labelled_positions] = data.y_labelled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        dataset = SklearnDataset(data.X, y, target_labels=np.arange(data.n_classes))
    # The fitted model as is: small-text's wrapper only calls its predict_proba here.
    return SklearnClassifier(data.model, data.n_classes), dataset, data.unlabelled_positions, data.labelled_positions


def _small_text_query(cls_name: str, **kwargs: Any) -> Builder:
    def build(data: SpeedData, batch: int, seed: int) -> Call:
        import small_text

        clf, dataset, unlabelled, labelled = _small_text_inputs(data)
        strategy = getattr(small_text, cls_name)(**kwargs)
        extra: dict[str, Any] = {}
        if cls_name == "GreedyCoreset":
            # Given embeddings must be in small-text's subset order: unlabelled rows, then labelled.
            extra["embeddings"] = data.X[np.concatenate([unlabelled, labelled])]

        def call() -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return strategy.query(clf, dataset, unlabelled, labelled, data.y_labelled, n=batch, **extra)

        return call

    return build


# -- scikit-activeml --------------------------------------------------------------------


def _skactiveml_pool(data: SpeedData) -> np.ndarray:
    y = np.full(data.n, np.nan)
    y[data.labelled_positions] = data.y_labelled
    return y


def _skactiveml_clf(data: SpeedData, estimator: Any, seed: int) -> Any:
    from skactiveml.classifier import SklearnClassifier

    from loopwise.bench.peers._base import FrozenClassifier

    y = _skactiveml_pool(data)
    frozen = FrozenClassifier(estimator, data.n_classes)
    return SklearnClassifier(frozen, classes=np.arange(data.n_classes), random_state=seed).fit(data.X, y)


def _skactiveml_uncertainty(method: str) -> Builder:
    def build(data: SpeedData, batch: int, seed: int) -> Call:
        from skactiveml.pool import UncertaintySampling

        y = _skactiveml_pool(data)
        clf = _skactiveml_clf(data, data.model, seed)
        strategy = UncertaintySampling(method=method, random_state=seed)
        return lambda: strategy.query(data.X, y, clf, fit_clf=False, batch_size=batch)

    return build


def _skactiveml_qbc(data: SpeedData, batch: int, seed: int) -> Call:
    from skactiveml.pool import QueryByCommittee

    y = _skactiveml_pool(data)
    members = [_skactiveml_clf(data, m, seed + i) for i, m in enumerate(data.committee)]
    strategy = QueryByCommittee(method="vote_entropy", random_state=seed)
    return lambda: strategy.query(data.X, y, members, fit_ensemble=False, batch_size=batch)


def _skactiveml_bald(data: SpeedData, batch: int, seed: int) -> Call:
    from skactiveml.pool import GreedyBALD

    y = _skactiveml_pool(data)
    members = [_skactiveml_clf(data, m, seed + i) for i, m in enumerate(data.committee)]
    strategy = GreedyBALD(random_state=seed)
    return lambda: strategy.query(data.X, y, members, fit_ensemble=False, batch_size=batch)


def _skactiveml_badge(data: SpeedData, batch: int, seed: int) -> Call:
    from skactiveml.pool import Badge

    y = _skactiveml_pool(data)
    clf = _skactiveml_clf(data, data.model, seed)
    strategy = Badge(random_state=seed)
    return lambda: strategy.query(data.X, y, clf, fit_clf=False, batch_size=batch)


def _skactiveml_plain(cls_name: str) -> Builder:
    def build(data: SpeedData, batch: int, seed: int) -> Call:
        import skactiveml.pool

        y = _skactiveml_pool(data)
        strategy = getattr(skactiveml.pool, cls_name)(random_state=seed)
        return lambda: strategy.query(data.X, y, batch_size=batch)

    return build


#: (library prefix, loopwise method) -> builder of the timed call.
PEERS: dict[tuple[str, str], Builder] = {
    ("modal", "least_confidence"): _modal_function("modAL.uncertainty", "uncertainty_sampling"),
    ("modal", "margin"): _modal_function("modAL.uncertainty", "margin_sampling"),
    ("modal", "entropy"): _modal_function("modAL.uncertainty", "entropy_sampling"),
    ("modal", "qbc"): _modal_qbc,
    ("modal", "ranked_batch"): _modal_ranked_batch,
    ("modal", "information_density"): _modal_information_density,
    ("small_text", "least_confidence"): _small_text_query("LeastConfidence"),
    ("small_text", "margin"): _small_text_query("BreakingTies"),
    ("small_text", "entropy"): _small_text_query("PredictionEntropy"),
    ("small_text", "kcenter"): _small_text_query("GreedyCoreset", distance_metric="euclidean", normalize=False),
    ("skactiveml", "least_confidence"): _skactiveml_uncertainty("least_confident"),
    ("skactiveml", "margin"): _skactiveml_uncertainty("margin_sampling"),
    ("skactiveml", "entropy"): _skactiveml_uncertainty("entropy"),
    ("skactiveml", "qbc"): _skactiveml_qbc,
    ("skactiveml", "bald"): _skactiveml_bald,
    ("skactiveml", "kcenter"): _skactiveml_plain("CoreSet"),
    ("skactiveml", "badge"): _skactiveml_badge,
    ("skactiveml", "typiclust"): _skactiveml_plain("TypiClust"),
    ("skactiveml", "probcover"): _skactiveml_plain("ProbCover"),
}

#: What a reader of the table should know about a peer's call.
NOTES: dict[tuple[str, str], str] = {
    ("modal", "qbc"): "Committee of 5 ActiveLearners (modAL's check_X_y keyword patched for scikit-learn >= 1.8)",
    ("modal", "ranked_batch"): "ActiveLearner built with modAL's check_X_y keyword patched for scikit-learn >= 1.8",
    ("modal", "information_density"): "entropy x modAL.density.information_density (cosine): an n x n similarity matrix",
    ("small_text", "kcenter"): "GreedyCoreset over the features as embeddings, normalize=False (the same Euclidean k-center)",
    ("skactiveml", "qbc"): "5 prefitted members, fit_ensemble=False",
    ("skactiveml", "bald"): "GreedyBALD over the same 5 members",
}


def peer_methods() -> dict[str, list[str]]:
    """For each loopwise method, the peer libraries that have an equivalent here."""
    out: dict[str, list[str]] = {}
    for library, method in PEERS:
        out.setdefault(method, []).append(library)
    return out
