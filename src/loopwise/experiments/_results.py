"""Read stored runs back as the plain RunResults that reports are built from."""

from __future__ import annotations

from collections.abc import Sequence

from loopwise.reports import LoopPoint, RunResult
from loopwise.storage import Store


def load_results(store: Store, run_ids: Sequence[str]) -> list[RunResult]:
    """One RunResult per run id, loop by loop (those that were evaluated), in the order given."""
    results = []
    for run_id in run_ids:
        info = store.get_run(run_id)
        config = info.config
        points = [
            LoopPoint(
                loop_index=loop.loop_index,
                n_labelled=loop.n_labelled,
                accuracy=float(loop.metrics["accuracy"]),
                macro_f1=float(loop.metrics["macro_f1"]),
                log_loss=loop.metrics.get("log_loss"),
                per_class_f1=list(loop.metrics["per_class_f1"]),
                confusion_matrix=loop.metrics["confusion_matrix"],
                timings=dict(loop.timings),
                label_cost=loop.label_cost,
            )
            for loop in store.loops(run_id)
            if "accuracy" in loop.metrics  # a server loop with too few labels to cross-validate has no figures
        ]
        results.append(
            RunResult(
                run_id=run_id,
                strategy=str(config.get("strategy", info.name or "?")),
                seed=int(config.get("seed", 0)),
                dataset=info.project_name,
                label_names=list(info.label_names),
                full_pool_accuracy=config.get("full_pool_accuracy"),
                loops=points,
                compute_rate=float(config.get("compute_rate") or 0.0),
                full_label_cost=config.get("full_label_cost"),
            )
        )
    return results
