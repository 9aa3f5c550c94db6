"""One cell of the quality benchmark: a (dataset, strategy, seed) run from the shared initial sample to the budget."""

from __future__ import annotations

import hashlib
import importlib
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from loopwise.bench._protocol import SCHEMA, BenchData, Protocol, prepared
from loopwise.bench.peers import FrozenClassifier, PeerQuery, is_peer, make_peer
from loopwise.core import Pool
from loopwise.errors import LoopwiseError
from loopwise.evaluation import evaluate
from loopwise.labeling import SimulatedOracle
from loopwise.learners import as_learner, make_estimator
from loopwise.loop import FixedSchedule, GivenIds, Loop, run_simulation
from loopwise.reports import aulc
from loopwise.strategies import make_strategy

LOOPWISE = "loopwise"


@dataclass(frozen=True)
class Cell:
    """One (dataset, strategy, seed): the unit that runs in a worker and is saved on its own."""

    protocol: Protocol
    strategy: str
    seed: int

    @property
    def dataset(self) -> str:
        return self.protocol.dataset

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.dataset, self.strategy, self.seed)


def library_of(strategy: str) -> tuple[str, str]:
    """``(library, method)`` of a strategy name: ``margin`` is loopwise's, ``modal:margin`` modAL's margin."""
    if is_peer(strategy):
        peer = make_peer(strategy)
        return peer.library, peer.method
    return LOOPWISE, strategy


def check_strategy(strategy: str) -> None:
    """Fail early, before any data is loaded, on a name neither loopwise nor a peer knows."""
    if is_peer(strategy):
        make_peer(strategy)
    else:
        make_strategy(strategy)


def peer_seed(seed: int, loop_index: int) -> int:
    """The integer seed a peer gets in one loop (peers take ints or seed NumPy's global generator)."""
    return int(np.random.SeedSequence([seed, 7, loop_index]).generate_state(1)[0])


def run_cell(cell: Cell) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run one cell; returns its result and the description of its dataset."""
    data = prepared(cell.protocol)
    initial = data.initial_positions(cell.seed)
    library, method = library_of(cell.strategy)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if library == LOOPWISE:
            labels, accuracy, macro_f1, order, select_seconds = _run_loopwise(cell, data, initial)
        else:
            labels, accuracy, macro_f1, order, select_seconds = _run_peer(cell, data, initial)
    wall = time.perf_counter() - start
    counts = Counter(f"{w.category.__name__}: {str(w.message)[:80]}" for w in caught)
    selection = "\n".join(data.pool_ids[order].tolist())
    result = {
        "schema": SCHEMA,
        "dataset": cell.dataset,
        "strategy": cell.strategy,
        "library": library,
        "method": method,
        "seed": cell.seed,
        "protocol_id": cell.protocol.protocol_id,
        "labels": [int(v) for v in labels],
        "accuracy": [round(float(v), 5) for v in accuracy],
        "macro_f1": [round(float(v), 5) for v in macro_f1],
        "aulc": round(aulc(labels, accuracy), 6),
        "initial_ids": data.pool_ids[initial].tolist(),
        "selection_digest": hashlib.sha1(selection.encode()).hexdigest()[:16],
        "select_seconds": round(select_seconds, 3),
        "wall_seconds": round(wall, 3),
        "warnings": dict(counts.most_common(5)),
    }
    return result, data.describe()


def _run_loopwise(cell: Cell, data: BenchData, initial: np.ndarray) -> tuple[list[int], list[float], list[float], np.ndarray, float]:
    """loopwise's own path: a Loop over the pool, driven by run_simulation with a ground-truth oracle."""
    p = cell.protocol
    learner: Any = as_learner(make_estimator(p.learner, seed=cell.seed), data.n_classes)
    loop = Loop(
        Pool.new(data.pool_ids, data.X_pool),
        learner,
        make_strategy(cell.strategy),
        FixedSchedule(p.initial, p.batch, p.budget),
        seed=cell.seed,
        initializer=GivenIds(data.pool_ids[initial].tolist()),
        X_test=data.X_test,
        y_test=data.y_test,
        evaluate=evaluate,
    )
    records = run_simulation(loop, SimulatedOracle(data.y_pool))
    labels = [r.n_labelled for r in records]
    accuracy = [r.metrics["accuracy"] for r in records]
    macro_f1 = [r.metrics["macro_f1"] for r in records]
    order = np.concatenate([r.positions for r in records])
    # INFER (probabilities, a committee's training) counts: peers do that inside their query call.
    select_seconds = sum(r.timings["infer"] + r.timings["select"] for r in records[1:])
    return labels, accuracy, macro_f1, order, select_seconds


def _run_peer(cell: Cell, data: BenchData, initial: np.ndarray) -> tuple[list[int], list[float], list[float], np.ndarray, float]:
    """The same loop for a peer strategy: the harness trains and evaluates, the peer only selects."""
    p = cell.protocol
    peer = make_peer(cell.strategy)
    # Import the library before the clock starts: select times are the strategy's, not an import's.
    importlib.import_module(peer.module)
    n_pool = len(data.y_pool)

    def new_estimator() -> Any:
        return make_estimator(p.learner, seed=cell.seed)

    def fit(positions: list[int]) -> Any:
        model = as_learner(new_estimator(), data.n_classes)
        model.fit(data.X_pool[positions], data.y_pool[positions])
        return model

    labelled = [int(i) for i in initial]
    is_labelled = np.zeros(n_pool, dtype=bool)
    is_labelled[labelled] = True
    model = fit(labelled)
    labels, accuracy, macro_f1 = [len(labelled)], [], []
    metrics = evaluate(data.y_test, model.predict_proba(data.X_test))
    accuracy.append(metrics["accuracy"])
    macro_f1.append(metrics["macro_f1"])
    select_seconds = 0.0
    loop_index = 1
    while len(labelled) < p.budget and len(labelled) < n_pool:
        size = min(p.batch, p.budget - len(labelled), n_pool - len(labelled))
        seed = peer_seed(cell.seed, loop_index)
        query = PeerQuery(
            X=data.X_pool,
            labelled=np.asarray(labelled, dtype=np.int64),
            y_labelled=data.y_pool[labelled],
            n_classes=data.n_classes,
            batch_size=size,
            model=FrozenClassifier(model, data.n_classes),
            make_estimator=new_estimator,
            seed=seed,
            loop_index=loop_index,
        )
        # modAL and small-text draw from NumPy's global generator (shuffles, bootstraps).
        np.random.seed(seed)
        start = time.perf_counter()
        picked = np.asarray(peer.select(query), dtype=np.int64).ravel()
        select_seconds += time.perf_counter() - start
        _check_picks(cell.strategy, picked, size, is_labelled)
        labelled.extend(int(i) for i in picked)
        is_labelled[picked] = True
        model = fit(labelled)
        metrics = evaluate(data.y_test, model.predict_proba(data.X_test))
        labels.append(len(labelled))
        accuracy.append(metrics["accuracy"])
        macro_f1.append(metrics["macro_f1"])
        loop_index += 1
    return labels, accuracy, macro_f1, np.asarray(labelled, dtype=np.int64), select_seconds


def _check_picks(strategy: str, picked: np.ndarray, size: int, is_labelled: np.ndarray) -> None:
    if picked.shape != (size,) or len(np.unique(picked)) != size:
        raise LoopwiseError(f"{strategy} returned {picked.shape[0]} positions ({len(np.unique(picked))} distinct); expected {size}")
    if picked.min() < 0 or picked.max() >= len(is_labelled):
        raise LoopwiseError(f"{strategy} returned positions outside the pool")
    if is_labelled[picked].any():
        raise LoopwiseError(f"{strategy} returned already labelled records")


__all__ = ["LOOPWISE", "Cell", "check_strategy", "library_of", "peer_seed", "run_cell"]
