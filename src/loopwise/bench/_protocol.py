"""The quality protocol of one dataset: split, pool subsample, featurization, initial sample per seed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from loopwise.data import featurize, load_dataset, split_pool_test
from loopwise.errors import ConfigError
from loopwise.evaluation import evaluate
from loopwise.learners import as_learner, make_estimator
from loopwise.loop import ProbCoverInit, loop_rng, parse_initializer

#: Bumped when a cell's meaning changes (what is measured, how), so old results are not mixed in.
SCHEMA = 1

#: Loop-0 samples a protocol can start from (``Protocol.init``).
INITS = ("random", "diverse", "typiclust", "probcover")


@dataclass(frozen=True)
class Protocol:
    """Everything every (strategy, seed) cell of one dataset shares.

    ``source`` is a dataset name of the shared folder or the path of any
    dataset folder (or file) :func:`loopwise.data.load_dataset` reads. The
    source's own train/test split is used when it has one, else a stratified
    split with ``test_size`` seeded by ``split_seed``; the pool is then
    subsampled to ``pool_size`` and the test set to ``max_test`` rows
    (stratified, same seed). Features come from loopwise's default featurizer
    (TF-IDF for text, one-hot and standardised columns for tables, pixels on
    [0, 1] for images), fitted on the pool. Each seed starts from ``initial``
    random pool records, then buys ``batch`` records a loop until ``budget``
    labels; the learner is ``learner`` from loopwise's model library,
    retrained from scratch every loop. ``init`` picks the loop-0 sample:
    ``random`` (the default), or a cold-start initialiser (``typiclust``,
    ``probcover``, ``diverse``) run on the pool's features with the seed's
    generator, so every strategy of a seed still starts from the same records.
    """

    source: str
    pool_size: int = 2000
    max_test: int = 2000
    test_size: float = 0.25
    split_seed: int = 0
    initial: int = 20
    batch: int = 20
    budget: int = 300
    learner: str = "logreg"
    init: str = "random"

    def __post_init__(self) -> None:
        for name in ("pool_size", "max_test", "initial", "batch", "budget"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be a positive integer for dataset {self.source!r}; got {value!r}")
        if self.budget < self.initial:
            raise ConfigError(f"budget ({self.budget}) must be at least the initial sample ({self.initial}) for {self.source!r}")
        if self.budget > self.pool_size:
            raise ConfigError(f"budget ({self.budget}) is larger than the pool ({self.pool_size}) for {self.source!r}")
        if self.init not in INITS:
            raise ConfigError(f"unknown init {self.init!r} for dataset {self.source!r}; known: {', '.join(INITS)}")

    @property
    def dataset(self) -> str:
        """The dataset's key in results: the name, or the folder's (file's) name for a path."""
        path = Path(self.source)
        name = path.name
        for suffix in (".csv.gz", ".csv", ".jsonl", ".parquet", ".npz"):
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return name

    def describe(self) -> dict[str, Any]:
        described = {"schema": SCHEMA, **asdict(self)}
        if self.init == "random":
            # Results written before `init` existed all used random; their protocol ids stay valid.
            del described["init"]
        return described

    @property
    def protocol_id(self) -> str:
        """Short digest of :meth:`describe`; results of a different protocol are never mixed."""
        text = json.dumps(self.describe(), sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:12]


@dataclass
class BenchData:
    """A dataset prepared once under a protocol and shared by all its cells."""

    protocol: Protocol
    task: str
    label_names: list[str]
    pool_ids: np.ndarray
    X_pool: Any
    y_pool: np.ndarray
    X_test: Any
    y_test: np.ndarray
    full_pool_accuracy: float

    @property
    def n_classes(self) -> int:
        return len(self.label_names)

    def initial_positions(self, seed: int) -> np.ndarray:
        """The loop-0 sample of ``seed``: the pick loopwise's own loop makes, shared by every strategy and library."""
        init = self.protocol.init
        initializer = ProbCoverInit(n_clusters=self.n_classes) if init == "probcover" else parse_initializer(init)
        return initializer.select(self.X_pool, self.pool_ids, self.protocol.initial, loop_rng(seed, 0))

    def describe(self) -> dict[str, Any]:
        digest = hashlib.sha1("\n".join(self.pool_ids.tolist()).encode()).hexdigest()[:12]
        return {
            "task": self.task,
            "n_pool": int(len(self.y_pool)),
            "n_test": int(len(self.y_test)),
            "n_features": int(self.X_pool.shape[1]),
            "sparse": bool(sp.issparse(self.X_pool)),
            "n_classes": self.n_classes,
            "label_names": list(self.label_names),
            "pool_class_counts": np.bincount(self.y_pool, minlength=self.n_classes).tolist(),
            "full_pool_accuracy": round(self.full_pool_accuracy, 6),
            "pool_ids_digest": digest,
        }


def prepare(protocol: Protocol) -> BenchData:
    """Load, split, subsample and featurize ``protocol.source``; fit the full-pool reference model."""
    dataset = load_dataset(protocol.source)
    pool, test = split_pool_test(
        dataset,
        test_size=protocol.test_size,
        seed=protocol.split_seed,
        max_pool=protocol.pool_size,
        max_test=protocol.max_test,
    )
    if len(pool) < protocol.budget:
        raise ConfigError(
            f"dataset {protocol.dataset!r} has {len(pool)} pool records, fewer than the budget of {protocol.budget}"
        )
    X_pool, X_test = featurize(dataset, pool, test)
    y_pool = np.asarray(dataset.y)[pool]
    y_test = np.asarray(dataset.y)[test]
    reference = as_learner(make_estimator(protocol.learner, seed=0), dataset.n_classes)
    reference.fit(X_pool, y_pool)
    full = float(evaluate(y_test, reference.predict_proba(X_test))["accuracy"])
    return BenchData(
        protocol=protocol,
        task=dataset.task,
        label_names=list(dataset.label_names),
        pool_ids=np.asarray(dataset.ids)[pool].astype(str),
        X_pool=X_pool,
        y_pool=y_pool,
        X_test=X_test,
        y_test=y_test,
        full_pool_accuracy=full,
    )


# Worker processes keep prepared datasets (a few MB each at benchmark pool sizes), so each
# worker loads and featurizes a dataset once per run even though cells go seed by seed.
_CACHE: dict[str, BenchData] = {}
_CACHE_SIZE = 16


def prepared(protocol: Protocol) -> BenchData:
    """:func:`prepare` with a small per-process cache keyed by the protocol."""
    key = protocol.protocol_id
    if key not in _CACHE:
        while len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = prepare(protocol)
    return _CACHE[key]
