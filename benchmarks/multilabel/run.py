"""Multi-label benchmark on goemotions: our strategies and small-text's CVIRS against random.

Run from the repository root (about 15 minutes on 2 busy cores):

    nice -n 10 python benchmarks/multilabel/run.py [--seeds 10] [--out benchmarks/results/multilabel_goemotions.json]
"""

from __future__ import annotations

import argparse
import os
import sys

from loopwise.bench._task_bench import markdown_table, run_task_benchmark
from loopwise.experiments._config import DataSpec

STRATEGIES = ["random", "ml_mean_uncertainty", "ml_min_margin", "mmc", "label_cardinality", "cvirs", "small_text:cvirs"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--max-pool", type=int, default=2000)
    parser.add_argument("--max-test", type=int, default=2000)
    parser.add_argument("--learner", default="tfidf_ovr_logreg")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--out", default="benchmarks/results/multilabel_goemotions.json")
    args = parser.parse_args()
    os.environ["LOOPWISE_BENCH_COMMAND"] = "nice -n 10 python " + " ".join(sys.argv)
    spec = DataSpec("goemotions", max_pool=args.max_pool, max_test=args.max_test, split_seed=0)
    doc = run_task_benchmark(
        spec, args.learner, args.strategies.split(","), list(range(args.seeds)),
        initial=50, batch=25, budget=args.budget, out=args.out,
    )
    print(markdown_table(doc))


if __name__ == "__main__":
    main()
