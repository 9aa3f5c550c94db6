"""Regression benchmark on california_housing: our strategies and scikit-activeml's greedy sampling against random.

Run from the repository root (about 10 minutes on 2 busy cores):

    nice -n 10 python benchmarks/regression/run.py [--seeds 10] [--out benchmarks/results/regression_california.json]
"""

from __future__ import annotations

import argparse
import os
import sys

from loopwise.bench._task_bench import markdown_table, run_task_benchmark
from loopwise.experiments._config import DataSpec

STRATEGIES = [
    "random", "max_std", "committee_variance", "emcm", "gsx", "gsy", "igs", "typiclust",
    "skactiveml:gsx", "skactiveml:gsy", "skactiveml:igs",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--max-pool", type=int, default=1000)
    parser.add_argument("--max-test", type=int, default=2000)
    parser.add_argument("--learner", default="bagging_trees")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--out", default="benchmarks/results/regression_california.json")
    args = parser.parse_args()
    os.environ["LOOPWISE_BENCH_COMMAND"] = "nice -n 10 python " + " ".join(sys.argv)
    spec = DataSpec("california_housing", max_pool=args.max_pool, max_test=args.max_test, split_seed=0)
    doc = run_task_benchmark(
        spec, args.learner, args.strategies.split(","), list(range(args.seeds)),
        initial=20, batch=20, budget=200, out=args.out,
    )
    print(markdown_table(doc))


if __name__ == "__main__":
    main()
