"""Where each strategy's picks lie on california_housing: how far out in feature space, how high the target.

Reads no test rows. Run from the repository root (about a minute):

    nice -n 10 python benchmarks/regression/picks.py [--learner bagging_ridge] [--seeds 10]
"""

from __future__ import annotations

import argparse

import numpy as np

from loopwise.experiments import build_loop, prepare_data
from loopwise.experiments._config import DataSpec, RunConfig
from loopwise.labeling import SimulatedOracle
from loopwise.loop import FixedSchedule, run_simulation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--learner", default="bagging_ridge")
    parser.add_argument("--strategies", default="random,typiclust,igs,gsx,max_std")
    args = parser.parse_args()
    spec = DataSpec("california_housing", max_pool=1000, max_test=2000, split_seed=0)
    data = prepare_data(spec, args.learner)
    X = np.asarray(data.X_pool, dtype=np.float64)
    # "Far out": the largest |z| of a row over the standardised numeric features (the one-hot columns are 0/1).
    numeric = X.std(axis=0) > 0
    far = np.abs((X[:, numeric] - X[:, numeric].mean(axis=0)) / X[:, numeric].std(axis=0)).max(axis=1)
    y = np.asarray(data.y_pool, dtype=np.float64)
    schedule = FixedSchedule(20, 20, 200).describe()
    print(f"pool: {np.mean(far > 3):.3f} of rows with some |z| > 3; {np.mean(y >= 500000):.3f} at the 500,001 cap")
    print("| strategy | picks with some abs z > 3 | median max abs z | picks at the target cap |")
    print("|---|---:|---:|---:|")
    for name in args.strategies.split(","):
        out3, med, cap = [], [], []
        for seed in range(args.seeds):
            config = RunConfig(data=spec, strategy=name, seed=seed, learner=args.learner, task=data.task, schedule=schedule)
            records = run_simulation(build_loop(config, data), SimulatedOracle(data.y_pool))
            picks = np.concatenate([np.asarray(r.positions) for r in records[1:]])  # loop 0 is the shared random start
            out3.append(np.mean(far[picks] > 3))
            med.append(np.median(far[picks]))
            cap.append(np.mean(y[picks] >= 500000))
        print(f"| {name} | {np.mean(out3):.3f} | {np.mean(med):.2f} | {np.mean(cap):.3f} |")


if __name__ == "__main__":
    main()
