"""Read stored runs back as the plain RunResults that reports are built from."""

from __future__ import annotations

from collections.abc import Sequence

from loopwise.core.tasks import CLASSIFICATION, MULTILABEL, headline
from loopwise.reports import LoopPoint, RunResult
from loopwise.storage import LoopInfo, Store


def _point(loop: LoopInfo, task: str) -> LoopPoint:
    """One loop's figures; for tasks other than classification the headline pair stands where accuracy and macro-F1 do."""
    m = loop.metrics
    if task == CLASSIFICATION:
        return LoopPoint(
            loop_index=loop.loop_index,
            n_labelled=loop.n_labelled,
            accuracy=float(m["accuracy"]),
            macro_f1=float(m["macro_f1"]),
            log_loss=m.get("log_loss"),
            per_class_f1=list(m["per_class_f1"]),
            confusion_matrix=m["confusion_matrix"],
            timings=dict(loop.timings),
            label_cost=loop.label_cost,
            selection=dict(m.get("selection") or {}),
        )
    first, second = headline(task)
    return LoopPoint(
        loop_index=loop.loop_index,
        n_labelled=loop.n_labelled,
        accuracy=float(m[first]),
        macro_f1=float(m[second]),
        log_loss=None,
        per_class_f1=list(m.get("per_label_f1", [])) if task == MULTILABEL else [],
        confusion_matrix=[],
        timings=dict(loop.timings),
        label_cost=loop.label_cost,
        selection=dict(m.get("selection") or {}),
    )


def load_results(store: Store, run_ids: Sequence[str]) -> list[RunResult]:
    """One RunResult per run id, loop by loop (those that were evaluated), in the order given."""
    results = []
    for run_id in run_ids:
        info = store.get_run(run_id)
        config = info.config
        key = headline(info.task)[0]
        points = [
            _point(loop, info.task)
            for loop in store.loops(run_id)
            if key in loop.metrics  # a server loop with too few labels to cross-validate has no figures
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
                task=info.task,
            )
        )
    return results
