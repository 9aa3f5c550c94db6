"""Check behind docs/benchmarks.md (cold start): how many classes 20 loop-0 picks cover, and the radius ProbCover chose and how much each of its balls adds.

Same pools as `benchmarks/quality_cold_start.toml`, seed 0:

    python benchmarks/checks/probcover_classes.py
"""

from __future__ import annotations

import warnings

import numpy as np

from loopwise.bench import load_plan
from loopwise.bench._protocol import prepare
from loopwise.loop import loop_rng
from loopwise.strategies import typiclust
from loopwise.strategies._probcover import _prob_cover

DATASETS = ["mnist", "fashion_mnist", "shuttle", "sms_spam", "trec", "letter"]


def main(seed: int = 0) -> None:
    warnings.simplefilter("ignore")
    plan = load_plan("benchmarks/quality_cold_start.toml", datasets=DATASETS)
    for protocol in plan.protocols:
        data = prepare(protocol)
        size = protocol.initial
        cover, gains, delta = _prob_cover(data.X_pool, None, size, loop_rng(seed, 0), None, 0.95, data.n_classes, 10000, 50, None)
        typical = typiclust(data.X_pool, None, size, loop_rng(seed, 0))
        drawn = loop_rng(seed, 0).choice(len(data.y_pool), size, replace=False)
        classes = {name: len(set(data.y_pool[p].tolist())) for name, p in (("probcover", cover), ("typiclust", typical), ("random", drawn))}
        print(f"{protocol.dataset}: classes covered by {size} picks of {data.n_classes}: {classes}; "
              f"ProbCover radius {delta:.3g}, records each of its balls adds: {np.round(gains, 0).astype(int).tolist()}")


if __name__ == "__main__":
    main()
