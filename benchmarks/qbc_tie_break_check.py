"""Check behind docs/benchmarks.md (QBC): loopwise's QBC without its KL tie-break, against the stored cells.

Until commit 0b0a257 loopwise's ``QueryByCommittee`` scored vote entropy plus ``1e-6`` x the KL
divergence to the consensus; this check led to dropping that term, so ``PureVoteEntropy`` below
now scores what ``qbc`` does. It runs the same committee with pure vote entropy (ties then go to loopwise's seeded
random tie-break) on the quality protocol's 10 seeds and compares it, paired by seed, with the
stored ``qbc``, ``modal:qbc``, ``skactiveml:qbc`` and ``random`` cells. One JSON line per dataset.

    python benchmarks/qbc_tie_break_check.py letter,mnist,shuttle,trec,fashion_mnist,covertype \
        > benchmarks/checks/qbc_tie_break.jsonl
"""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np
from scipy import stats

from loopwise.bench import ResultStore, load_plan
from loopwise.bench._protocol import prepared
from loopwise.core import Pool
from loopwise.evaluation import evaluate
from loopwise.labeling import SimulatedOracle
from loopwise.learners import as_learner, make_estimator
from loopwise.loop import FixedSchedule, GivenIds, Loop, run_simulation
from loopwise.reports import aulc
from loopwise.strategies import QueryByCommittee, StrategyInputs, vote_entropy

SEEDS = range(10)
COMPARED = ("qbc", "modal:qbc", "skactiveml:qbc", "random")


class PureVoteEntropy(QueryByCommittee):
    """Vote entropy alone: the tied records are drawn at random by ``top_k``."""

    name = "qbc_pure_vote_entropy"

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        return vote_entropy(inputs.require("committee"))


def main(datasets: list[str], results: str = "benchmarks/results") -> None:
    warnings.simplefilter("ignore")
    plan = load_plan("benchmarks/quality.toml", datasets=datasets)
    docs = {d["dataset"]: d for d in ResultStore(results).load()}
    for protocol in plan.protocols:
        data = prepared(protocol)
        stored = {(c["strategy"], c["seed"]): c["aulc"] for c in docs[protocol.dataset]["cells"]}
        pure = []
        for seed in SEEDS:
            initial = data.initial_positions(seed)
            loop = Loop(
                Pool.new(data.pool_ids, data.X_pool),
                as_learner(make_estimator(protocol.learner, seed=seed), data.n_classes),
                PureVoteEntropy(),
                FixedSchedule(protocol.initial, protocol.batch, protocol.budget),
                seed=seed,
                initializer=GivenIds(data.pool_ids[initial].tolist()),
                X_test=data.X_test,
                y_test=data.y_test,
                evaluate=evaluate,
            )
            records = run_simulation(loop, SimulatedOracle(data.y_pool))
            pure.append(aulc([r.n_labelled for r in records], [r.metrics["accuracy"] for r in records]))
        ours = np.asarray(pure)
        row: dict[str, object] = {"dataset": protocol.dataset, "pure_vote_entropy": round(100 * ours.mean(), 2)}
        for strategy in COMPARED:
            other = np.asarray([stored[(strategy, seed)] for seed in SEEDS])
            diff = ours - other
            p = float(stats.wilcoxon(diff).pvalue) if np.any(diff) else 1.0
            row[strategy] = {"aulc": round(100 * other.mean(), 2), "pure_minus": round(100 * diff.mean(), 2), "p": round(p, 4)}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main(sys.argv[1].split(","))
