"""Compute-saving retrain options beside scratch/warm start: selection via proxy, and SEALS candidate pools."""

from __future__ import annotations

from typing import Any

import numpy as np

from loopwise.core.protocols import Learner
from loopwise.errors import ConfigError


class ProxySelection:
    """Selection via proxy (Coleman et al., ICLR 2020): a cheap ``proxy`` learner runs INFER and SELECT every loop.

    The proxy is refitted from scratch on the labelled set every loop; the loop's own (full)
    learner is trained only at checkpoints: loop 0, every ``checkpoint_every`` loops (0: never
    in between), and the loop that spends the budget or the pool, so the run ends on a full model.
    EVALUATE always scores the latest full model, the one a user would deploy, so the learning
    curve between checkpoints is that of a model trained on fewer labels. The proxy's TRAIN and
    INFER compute is counted in the loop's timings like the full model's. ``continued=True`` keeps
    the proxy between loops and continues its training (``fit_more``, a warm start), so a proxy of
    few steps a loop still accumulates training; otherwise it is refitted from nothing every loop.
    """

    def __init__(self, proxy: Learner, checkpoint_every: int = 0, continued: bool = False) -> None:
        if not hasattr(proxy, "fit") or not hasattr(proxy, "predict_proba"):
            raise ConfigError(f"ProxySelection: proxy needs fit() and predict_proba(); got {type(proxy).__name__}")
        if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) or checkpoint_every < 0:
            raise ConfigError(f"ProxySelection: checkpoint_every must be an integer >= 0; got {checkpoint_every!r}")
        if continued and not hasattr(proxy, "fit_more"):
            raise ConfigError(f"ProxySelection: continued=True needs a proxy with fit_more(); {type(proxy).__name__} has none")
        self.proxy = proxy
        self.checkpoint_every = checkpoint_every
        self.continued = continued

    def is_checkpoint(self, loop_index: int, last: bool) -> bool:
        """Whether the full learner trains after loop ``loop_index`` (``last``: nothing is left to buy)."""
        if loop_index == 0 or last:
            return True
        return self.checkpoint_every > 0 and loop_index % self.checkpoint_every == 0

    def fit_proxy(self, X: Any, y: np.ndarray, previous: Learner | None = None) -> Learner:
        """The proxy fitted on the labelled rows (continuing ``previous`` when ``continued``): what INFER and SELECT read."""
        if self.continued and previous is not None:
            previous.fit_more(X, y, new_only=False)  # type: ignore[attr-defined]
            return previous
        model = self.proxy.clone()
        model.fit(X, y)
        return model

    def describe(self) -> dict[str, Any]:
        return {"kind": "proxy", "proxy": getattr(self.proxy, "name", type(self.proxy).__name__),
                "checkpoint_every": self.checkpoint_every, "continued": self.continued}


class SEALSCandidates:
    """SEALS (Coleman et al., AAAI 2022): SELECT only among the ``n_neighbors`` nearest neighbours of the labelled set.

    The k-nearest-neighbour graph of the pool is built once (scikit-learn's ``NearestNeighbors``,
    cosine distance, on the features or, for sparse rows, a truncated SVD of ``max_dims``
    dimensions), and each loop's candidates are the unlabelled neighbours of every labelled record,
    so the candidate set grows with the labels instead of spanning the pool. When fewer candidates
    than the batch remain, the whole unlabelled pool is used for that loop. The loop still infers on
    the whole pool (its record keeps every row's probabilities), so the saving measured here is in
    SELECT; on a pool of millions the same restriction would also bound INFER.
    """

    def __init__(self, n_neighbors: int = 10, max_dims: int = 50) -> None:
        for name, value in (("n_neighbors", n_neighbors), ("max_dims", max_dims)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"SEALSCandidates: {name} must be a positive integer; got {value!r}")
        self.n_neighbors = n_neighbors
        self.max_dims = max_dims
        self.neighbours_: np.ndarray | None = None

    def _graph(self, X: Any, rng: np.random.Generator) -> np.ndarray:
        from sklearn.neighbors import NearestNeighbors

        from loopwise.strategies._pairwise import dense_view

        view = dense_view(X, self.max_dims, rng)(X)
        k = min(self.n_neighbors + 1, view.shape[0])
        index = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute").fit(view)
        return np.asarray(index.kneighbors(view, return_distance=False), dtype=np.int64)

    def candidates(self, X: Any, labelled: np.ndarray, unlabelled: np.ndarray, size: int,
                   rng: np.random.Generator) -> np.ndarray:
        """Sorted unlabelled positions next to a labelled one; all of ``unlabelled`` when fewer than ``size``."""
        if self.neighbours_ is None or self.neighbours_.shape[0] != X.shape[0]:
            self.neighbours_ = self._graph(X, rng)
        near = np.zeros(X.shape[0], dtype=bool)
        near[self.neighbours_[labelled].ravel()] = True
        is_unlabelled = np.zeros(X.shape[0], dtype=bool)
        is_unlabelled[unlabelled] = True
        chosen = np.flatnonzero(near & is_unlabelled)
        return chosen if len(chosen) >= size else np.sort(unlabelled)

    def describe(self) -> dict[str, Any]:
        return {"kind": "seals", "n_neighbors": self.n_neighbors, "max_dims": self.max_dims}
