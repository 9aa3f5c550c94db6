"""Why the mlp's warm start lost 18 points on trec (seed 0): per loop, what the model predicts on the test set.

    .venv/bin/python benchmarks/cost/probe_trec.py 0 warm      # seed, option (scratch | warm)

Prints, per loop: test accuracy, accuracy on the labelled set, dead hidden units, how many test
questions each class is predicted for, the mean |first-layer weight| and the mean top probability.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (benchmarks/cost/run.py: the same model options)

from loopwise.bench._plan import load_plan  # noqa: E402
from loopwise.bench._protocol import prepared  # noqa: E402
from loopwise.core import Pool  # noqa: E402
from loopwise.evaluation import evaluate  # noqa: E402
from loopwise.labeling import SimulatedOracle  # noqa: E402
from loopwise.learners import as_learner  # noqa: E402
from loopwise.loop import FixedSchedule, GivenIds, Loop  # noqa: E402
from loopwise.strategies import make_strategy  # noqa: E402


def main() -> None:
    seed, option = int(sys.argv[1]), sys.argv[2]
    plan = load_plan(run.ROOT / "benchmarks" / "quality.toml", datasets=["trec"], strategies=["margin"], seeds=1,
                     overrides={"learner": "mlp"})
    data = prepared(plan.protocols[0])
    initial = data.initial_positions(seed)
    print("loop-0 sample per class", np.bincount(data.y_pool[initial], minlength=data.n_classes).tolist(),
          "pool", np.bincount(data.y_pool, minlength=data.n_classes).tolist(),
          "test", np.bincount(data.y_test, minlength=data.n_classes).tolist())
    loop = Loop(Pool.new(data.pool_ids, data.X_pool), as_learner(run._model("mlp", option, seed), data.n_classes),
                make_strategy("margin"), FixedSchedule(20, 20, 200), seed=seed,
                initializer=GivenIds(data.pool_ids[initial].tolist()),
                retrain="warm_start" if option == "warm" else "scratch", X_test=data.X_test, y_test=data.y_test,
                evaluate=evaluate)
    oracle = SimulatedOracle(data.y_pool)
    while not loop.should_stop():
        record = loop.record(oracle.collect(loop.propose()))
        labelled = loop.pool.labelled_positions
        model = loop.model.model_  # type: ignore[union-attr]
        train = float(np.mean(model.predict(loop.pool.rows(labelled)) == loop.pool.labels[labelled]))
        dead = int(np.sum(model.embed(data.X_pool).max(axis=0) <= 0))
        proba = model.predict_proba(data.X_test)
        print(record.loop_index, f"test {record.metrics['accuracy']:.3f}", f"train {train:.3f}", f"dead {dead}",
              "test predicted per class", np.bincount(proba.argmax(1), minlength=data.n_classes).tolist(),
              f"|w0| {float(np.abs(model.coefs_[0]).mean()):.4f}", f"top p {float(proba.max(1).mean()):.3f}", flush=True)


if __name__ == "__main__":
    main()
