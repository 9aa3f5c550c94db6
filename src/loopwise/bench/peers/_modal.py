"""modAL adapters: uncertainty, margin and entropy sampling, a bagged Committee, ranked batch, information density."""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np

from loopwise.bench.peers._base import PeerQuery, PeerStrategy, ProtocolClassifier, require

COMMITTEE_SIZE = 5


def _modal() -> Any:
    """Import modAL and make its learners work on current scikit-learn.

    modAL 0.4.2 calls ``check_X_y(..., force_all_finite=...)`` whenever an
    ``ActiveLearner`` or ``Committee`` receives training data; scikit-learn
    1.6 renamed that keyword to ``ensure_all_finite`` and 1.8 removed the old
    name, so every ``teach``/construction with data raises ``TypeError``. The
    fix is confined to modAL's own module namespace: its ``check_X_y`` gets
    the keyword under the new name. Nothing else in modAL is changed.
    """
    modal = require("modAL", "modAL-python")
    import modAL.models.learners as learners
    from sklearn.utils.validation import check_X_y

    if "force_all_finite" not in inspect.signature(check_X_y).parameters and not getattr(
        learners.check_X_y, "_loopwise_compat", False
    ):

        def check_X_y_compat(*args: Any, force_all_finite: Any = True, **kwargs: Any) -> Any:
            kwargs.setdefault("ensure_all_finite", force_all_finite)
            return check_X_y(*args, **kwargs)

        check_X_y_compat._loopwise_compat = True  # type: ignore[attr-defined]
        learners.check_X_y = check_X_y_compat
    return modal


def _rows(X: Any, positions: np.ndarray) -> Any:
    return X[positions]


class _ModalPeer(PeerStrategy):
    library = "modAL"
    prefix = "modal"
    distribution = "modAL-python"
    module = "modAL.models"


class _ModalLearnerQuery(_ModalPeer):
    """A modAL ``ActiveLearner`` around the harness's fitted model, queried with one of modAL's functions."""

    _module: ClassVar[str] = "modAL.uncertainty"
    _function: ClassVar[str] = "uncertainty_sampling"

    def select(self, query: PeerQuery) -> np.ndarray:
        _modal()
        import importlib

        from modAL.models import ActiveLearner

        strategy = getattr(importlib.import_module(self._module), self._function)
        # The learner's fit is a no-op (FrozenClassifier): it was trained on exactly these rows.
        learner = ActiveLearner(
            estimator=query.model,
            query_strategy=strategy,
            X_training=_rows(query.X, query.labelled),
            y_training=query.y_labelled,
        )
        unlabelled = query.unlabelled
        picked, _ = learner.query(_rows(query.X, unlabelled), n_instances=query.batch_size)
        return unlabelled[np.asarray(picked, dtype=np.int64)]


class ModalLeastConfidence(_ModalLearnerQuery):
    """``modAL.uncertainty.uncertainty_sampling`` (ties: ``argpartition`` order, modAL's default)."""

    method = "least_confidence"
    _function = "uncertainty_sampling"


class ModalMargin(_ModalLearnerQuery):
    """``modAL.uncertainty.margin_sampling``."""

    method = "margin"
    _function = "margin_sampling"


class ModalEntropy(_ModalLearnerQuery):
    """``modAL.uncertainty.entropy_sampling``."""

    method = "entropy"
    _function = "entropy_sampling"


class ModalRankedBatch(_ModalLearnerQuery):
    """``modAL.batch.uncertainty_batch_sampling``: ranked batch-mode sampling (Cardoso et al. 2017)."""

    method = "ranked_batch"
    _module = "modAL.batch"
    _function = "uncertainty_batch_sampling"


class ModalQBC(_ModalPeer):
    """``modAL.models.Committee`` of 5 ``ActiveLearner`` members bagged on the labelled set, vote entropy.

    modAL's ``Committee.teach`` trains every member on the same data unless
    ``bootstrap=True``; with one shared initial sample, bagging
    (``bootstrap_init=True``) is what makes the members differ, as in modAL's
    docs. Members are the protocol learner (prior-only on one-class bags).
    """

    method = "qbc"

    def select(self, query: PeerQuery) -> np.ndarray:
        _modal()
        from modAL.disagreement import vote_entropy_sampling
        from modAL.models import ActiveLearner, Committee

        X_labelled = _rows(query.X, query.labelled)
        members = [
            ActiveLearner(
                estimator=ProtocolClassifier(query.make_estimator(), query.n_classes),
                X_training=X_labelled,
                y_training=query.y_labelled,
                bootstrap_init=True,  # bootstrap indices come from NumPy's global generator, seeded per loop
            )
            for _ in range(COMMITTEE_SIZE)
        ]
        committee = Committee(learner_list=members, query_strategy=vote_entropy_sampling)
        unlabelled = query.unlabelled
        picked, _ = committee.query(_rows(query.X, unlabelled), n_instances=query.batch_size)
        return unlabelled[np.asarray(picked, dtype=np.int64)]


class ModalInformationDensity(_ModalPeer):
    """Entropy times ``modAL.density.information_density`` (cosine) over the unlabelled rows.

    modAL ships the density measure but no query function around it; this is
    the composition its docs describe (uncertainty times density, beta 1),
    with modAL's entropy and ``multi_argmax``.
    """

    method = "information_density"

    def select(self, query: PeerQuery) -> np.ndarray:
        _modal()
        from modAL.density import information_density
        from modAL.uncertainty import classifier_entropy
        from modAL.utils.selection import multi_argmax

        unlabelled = query.unlabelled
        X_unlabelled = _rows(query.X, unlabelled)
        scores = classifier_entropy(query.model, X_unlabelled) * information_density(X_unlabelled, metric="cosine")
        picked, _ = multi_argmax(scores, n_instances=query.batch_size)
        return unlabelled[np.asarray(picked, dtype=np.int64)]


STRATEGIES: tuple[type[PeerStrategy], ...] = (
    ModalLeastConfidence,
    ModalMargin,
    ModalEntropy,
    ModalQBC,
    ModalRankedBatch,
    ModalInformationDensity,
)
