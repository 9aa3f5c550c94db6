"""Training data of the learned selector (LAL-style): the measured gain of labelling single candidates.

    python benchmarks/auto/learned_data.py --out benchmarks/auto/learned_data [--dataset NAME ...] [-j 2]
    benchmarks/auto/learned_all.sh   # everything: data, models, offline check

For each dataset of the shared folder, only its **train split** is read: the quality plan's
split (seed 0, test share 0.25 for datasets without their own split) decides which rows are
test rows, and those are never loaded into the generator's arrays. Of the train rows, a
stratified 1,500 are drawn (seed 1), then split 1,000 / 500 into a simulation pool and a
validation set (both train rows). ``--runs`` simulated runs per dataset (initial 20 random,
batch 20, 200 labels, logistic regression; behaviour policy random / margin / covered_margin
by run) go through loopwise's own Loop. At every loop the behaviour strategy first computes
the learned selector's candidate features from the very inputs the selector would see
(:func:`loopwise.strategies._learned_features.candidate_features`), then ``--candidates``
candidates are drawn (half uniform, half among the 20% most uncertain) and for each one the
model is refitted on the labelled set plus that record: the gain is the change of validation
log-loss and accuracy. One ``<dataset>.npz`` per dataset: features, gains, group (run, loop).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from loopwise.core import Pool
from loopwise.core.records import Selection
from loopwise.data import featurize, load_dataset, split_pool_test
from loopwise.labeling import SimulatedOracle
from loopwise.learners import as_learner, make_estimator
from loopwise.loop import FixedSchedule, GivenIds, Loop, run_simulation
from loopwise.strategies import FEATURES, HISTORY, PROBA, Capabilities, Strategy, StrategyInputs, make_strategy
from loopwise.strategies._learned_features import FEATURE_NAMES, candidate_features

#: Datasets the selector learns from: the ten of the quality plan and the other classification sets.
DATASETS = (
    "sms_spam", "ag_news", "trec", "customer_reviews", "letter", "adult", "covertype", "shuttle", "mnist",
    "fashion_mnist", "bank_marketing", "banknote", "credit_g", "optdigits", "waveform",
)  # fmt: skip
BEHAVIOURS = ("random", "margin", "covered_margin")
_EPS = 1e-6


class Recorder(Strategy):
    """A behaviour strategy that first records the learned selector's features of its candidates."""

    name = "learned_data_behaviour"
    capabilities = Capabilities()
    requires = frozenset({PROBA, FEATURES, HISTORY})

    def __init__(self, behaviour: str, seed: int) -> None:
        self.behaviour = behaviour
        self.seed = seed
        self.seen_: list[tuple[np.ndarray, np.ndarray]] = []

    def select(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> Selection:
        # Features on their own generator, so recording leaves the behaviour's draws unchanged.
        view = candidate_features(inputs, batch_size, np.random.default_rng([self.seed, 11, len(self.seen_)]))
        self.seen_.append((np.asarray(inputs.candidates), view.features))
        return make_strategy(self.behaviour).select(inputs, batch_size, rng)


def _scores(model: Any, X: Any, y: np.ndarray) -> tuple[float, float]:
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    loss = float(-np.log(np.clip(proba[np.arange(len(y)), y], _EPS, 1.0)).mean())
    return loss, float((proba.argmax(axis=1) == y).mean())


def train_positions(dataset: Any, n_rows: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    """Simulation pool and validation rows of ``dataset``: a seeded draw among its train rows alone."""
    train, _test = split_pool_test(dataset, test_size=0.25, seed=0)
    # The test rows (_test) are never used again; the draw below is among train rows alone.
    rng = np.random.default_rng(1)
    rows = np.sort(rng.choice(train, size=min(n_rows, len(train)), replace=False))
    rng.shuffle(rows)
    n_val = len(rows) // 3
    return np.sort(rows[n_val:]), np.sort(rows[:n_val])


def train_rows(name: str) -> tuple[Any, np.ndarray, Any, np.ndarray, int]:
    """Simulation pool and validation set (features, labels) drawn from the train split of ``name`` only."""
    dataset = load_dataset(name)
    pool, val = train_positions(dataset)
    X_pool, X_val = featurize(dataset, pool, val)
    y_all = np.asarray(dataset.y)
    return X_pool, y_all[pool], X_val, y_all[val], int(dataset.n_classes)


def generate(name: str, runs: int, n_candidates: int, budget: int = 200) -> dict[str, np.ndarray]:
    """Features and measured gains of sampled candidates over ``runs`` simulated runs on ``name``."""
    X_pool, y_pool, X_val, y_val, n_classes = train_rows(name)
    ids = np.asarray([f"r{i}" for i in range(len(y_pool))])
    out: dict[str, list[Any]] = {"X": [], "gain_loss": [], "gain_acc": [], "run": [], "loop": [], "n_labelled": []}
    for run in range(runs):
        seed = 1000 + run
        behaviour = BEHAVIOURS[run % len(BEHAVIOURS)]
        recorder = Recorder(behaviour, seed)
        init = np.random.default_rng([seed, 0]).choice(len(y_pool), 20, replace=False)

        def learner() -> Any:
            return as_learner(make_estimator("logreg", seed=seed), n_classes)

        loop = Loop(Pool.new(ids, X_pool), learner(), recorder, FixedSchedule(20, 20, budget), seed=seed,
                    initializer=GivenIds(ids[init].tolist()))  # fmt: skip
        records = run_simulation(loop, SimulatedOracle(y_pool))
        labelled = np.asarray(records[0].positions, dtype=np.int64)
        rng = np.random.default_rng([seed, 12])
        for t, (candidates, feats) in enumerate(recorder.seen_):
            base = learner()
            base.fit(X_pool[labelled], y_pool[labelled])
            base_loss, base_acc = _scores(base, X_val, y_val)
            n_half = min(n_candidates // 2, len(candidates))
            uniform = rng.choice(len(candidates), n_half, replace=False)
            uncertain = np.flatnonzero(feats[:, FEATURE_NAMES.index("q_margin")] >= 0.8)
            top = rng.choice(uncertain, min(n_candidates - n_half, len(uncertain)), replace=False)
            picks = np.unique(np.concatenate([uniform, top]))
            for j in picks:
                rows = np.append(labelled, candidates[j])
                model = learner()
                model.fit(X_pool[rows], y_pool[rows])
                loss, acc = _scores(model, X_val, y_val)
                out["X"].append(feats[j])
                out["gain_loss"].append(base_loss - loss)
                out["gain_acc"].append(acc - base_acc)
                out["run"].append(run)
                out["loop"].append(t)
                out["n_labelled"].append(len(labelled))
            labelled = np.concatenate([labelled, records[t + 1].positions])
    return {
        "X": np.asarray(out["X"], dtype=np.float32),
        **{key: np.asarray(out[key], dtype=np.float64 if key.startswith("gain") else np.int64) for key in out if key != "X"},
    }


def _one(name: str, out: Path, runs: int, n_candidates: int) -> str:
    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    # One BLAS thread a worker: on tiny fits threads only contend (200-row MNIST fits went from 0.06 s to 6 s).
    with threadpool_limits(1):
        arrays = generate(name, runs, n_candidates)
    np.savez_compressed(out / f"{name}.npz", **arrays, feature_names=np.asarray(FEATURE_NAMES))
    return f"{name}: {len(arrays['X'])} rows in {time.perf_counter() - start:.0f} s"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="benchmarks/auto/learned_data")
    ap.add_argument("--dataset", action="append", help="dataset of the shared folder (repeatable; default: all 15)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--candidates", type=int, default=40)
    ap.add_argument("-j", "--jobs", type=int, default=1)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = args.dataset or list(DATASETS)
    if args.jobs == 1:
        lines = [_one(n, out, args.runs, args.candidates) for n in names]
    else:
        from joblib import Parallel, delayed

        lines = Parallel(n_jobs=args.jobs)(delayed(_one)(n, out, args.runs, args.candidates) for n in names)
    for name in names:  # how each file was made, next to it
        (out / f"{name}.json").write_text(json.dumps({"command": " ".join(["python", *sys.argv]), "runs": args.runs,
                                                      "candidates": args.candidates}, indent=1) + "\n")  # fmt: skip
    print("\n".join(lines))


if __name__ == "__main__":
    main()
