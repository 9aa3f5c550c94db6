"""``learned``: a selector trained offline on simulated runs scores each candidate from its metadata (LAL-style).

Konyushkova et al. (NeurIPS 2017, "Learning Active Learning from Data") train a
regressor on simulated runs to predict the error reduction of labelling a record.
``learned`` does the same over loopwise's scale-free candidate features
(:mod:`._learned_features`: uncertainty and its history, flips, density,
typicality, distance to the labelled set, coverage of its cluster and its
predicted class, run-level state). The model is a scikit-learn ridge regression
(on standardised features) of the *within-loop standardised* gain (validation
log-loss and accuracy, both on train-split rows) measured by refitting with each
sampled candidate added; its training data and script are
``benchmarks/auto/learned_data.py`` and ``benchmarks/auto/learned_train.py``. A
linear model, because on held-out datasets it ranked candidates better than
gradient boosting or an MLP (``docs/benchmarks.md``), and because scoring is then
one matrix-vector product, whatever the pool size. With ``spread=True`` (the default) the
batch takes the best-scored record of each k-means cluster, best clusters first,
before any cluster gets a second pick: single-record gains say nothing about
redundancy within a batch.

The model file is JSON: the version, the feature names, the scaler's mean and
scale and the ridge coefficients (no pickle, so no code runs on load and no
scikit-learn version is needed to score). Every selection records
:attr:`LearnedSelector.model_version` in its ``info``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from loopwise.core.records import Selection
from loopwise.core.topk import top_k
from loopwise.errors import ConfigError
from loopwise.strategies._base import FEATURES, HISTORY, PROBA, Strategy, StrategyInputs
from loopwise.strategies._capabilities import Capabilities
from loopwise.strategies._learned_features import FEATURE_NAMES, candidate_features
from loopwise.strategies._pairwise import subsample

#: The model shipped with loopwise, trained on every classification dataset of the shared folder.
BUILTIN_MODEL = Path(__file__).with_name("models") / "learned_selector.json"


@dataclasses.dataclass(frozen=True)
class LinearModel:
    """A linear scorer over standardised features: ``((X - mean) / scale) @ coef + intercept``."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def predict(self, X: np.ndarray) -> np.ndarray:
        """One score per row, computed in float64."""
        w = self.coef / self.scale
        return np.asarray(X, dtype=np.float64) @ w + (self.intercept - float(self.mean @ w))


@functools.lru_cache(maxsize=16)
def _load(path: str, stamp: float) -> tuple[LinearModel, dict[str, Any]]:
    """The model and its metadata from ``path`` (cached per path and modification time)."""
    raw = Path(path).read_bytes()
    try:
        doc = json.loads(raw)
        meta = dict(doc["meta"])
        names = tuple(meta["feature_names"])
        mean, scale, coef = (np.asarray(doc["model"][key], dtype=np.float64) for key in ("mean", "scale", "coef"))
        model = LinearModel(mean=mean, scale=scale, coef=coef, intercept=float(doc["model"]["intercept"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"learned selector model {path}: not a model file ({type(exc).__name__}: {exc})") from None
    if names != FEATURE_NAMES:
        raise ConfigError(
            f"learned selector model {path}: trained on features {list(names)}, this loopwise computes {list(FEATURE_NAMES)}; "
            "retrain it with benchmarks/auto/learned_train.py"
        )
    width = len(FEATURE_NAMES)
    if any(a.shape != (width,) for a in (model.mean, model.scale, model.coef)) or not (model.scale > 0).all():
        raise ConfigError(f"learned selector model {path}: mean, scale and coef must be {width} numbers each, scale > 0")
    meta["digest"] = hashlib.sha256(raw).hexdigest()[:12]
    return model, meta


def load_model(model: str | Path | None = None) -> tuple[LinearModel, dict[str, Any]]:
    """The selector model at ``model`` (``None``: the built-in one) and its metadata, with the file's digest."""
    path = Path(model) if model is not None else BUILTIN_MODEL
    if not path.is_file():
        raise ConfigError(f"learned selector model {str(path)!r} does not exist")
    return _load(str(path.resolve()), path.stat().st_mtime)


def spread_top(scores: np.ndarray, clusters: np.ndarray, k: int) -> np.ndarray:
    """Positions of the best score of each cluster, best first, then each cluster's second, and so on (``k`` in all)."""
    scores = np.asarray(scores, dtype=np.float64)
    by_cluster = np.lexsort((-scores, clusters))  # cluster by cluster, best first within each
    sorted_clusters = clusters[by_cluster]
    starts = np.flatnonzero(np.r_[True, sorted_clusters[1:] != sorted_clusters[:-1]])
    sizes = np.diff(np.r_[starts, len(by_cluster)])
    rank = np.arange(len(by_cluster)) - np.repeat(starts, sizes)
    order = np.lexsort((by_cluster, -scores[by_cluster], rank))
    return by_cluster[order[: max(0, int(k))]].astype(np.int64)


class LearnedSelector(Strategy):
    """A linear model of the gain of labelling each candidate, trained on simulated runs (LAL).

    ``model``: path of a model file written by ``benchmarks/auto/learned_train.py``
    (``None``: the built-in model). ``spread``: one record per k-means cluster
    before any second (else the plain top scores). ``max_candidates``: pools
    with more candidates are scored on a seeded uniform sample of that many
    (as ``covered_margin`` clusters a sample), which keeps a selection on a 1M
    pool within ``auto``'s bound. See the module docstring.
    """

    name = "learned"
    capabilities = Capabilities()  # pool-wide features (quantiles, clusters): not row-local
    requires = frozenset({PROBA, FEATURES, HISTORY})

    def __init__(self, model: str | None = None, spread: bool = True, max_candidates: int = 20000) -> None:
        if model is not None and not isinstance(model, str | Path):
            raise ValueError(f"model must be a path or None, got {model!r}")
        if not isinstance(max_candidates, int) or max_candidates < 1:
            raise ValueError(f"max_candidates must be a positive integer, got {max_candidates!r}")
        self.model = None if model is None else str(model)
        self.spread = bool(spread)
        self.max_candidates = max_candidates
        load_model(self.model)  # fail at construction, not at the first loop

    @property
    def model_version(self) -> str:
        """``<version>+<sha256 of the file, 12 hex>``, recorded by every selection."""
        meta = load_model(self.model)[1]
        return f"{meta.get('version', 'unversioned')}+{meta['digest']}"

    def scores(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """The predicted gain of every candidate and its cluster."""
        estimator = load_model(self.model)[0]
        view = candidate_features(inputs, batch_size, rng)
        if len(view.features) == 0:
            return np.empty(0), view.clusters
        return np.asarray(estimator.predict(view.features), dtype=np.float64), view.clusters

    def select(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> Selection:
        n = len(inputs.candidates)
        rows = subsample(n, max(self.max_candidates, int(batch_size)), rng)
        if len(rows) < n:
            inputs = dataclasses.replace(
                inputs, candidates=inputs.candidates[rows], proba=inputs.require("proba")[rows],
                features=inputs.require("features")[rows],
            )  # fmt: skip
        scores, clusters = self.scores(inputs, batch_size, rng)
        k = min(int(batch_size), len(scores))
        picked = spread_top(scores, clusters, k) if self.spread else top_k(scores, k, rng)
        positions, scores = rows[picked], scores[picked]
        return Selection(positions=positions, scores=scores, info={"model_version": self.model_version})
