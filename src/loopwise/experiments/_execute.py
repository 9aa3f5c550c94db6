"""Run simulated experiments against a store, one committed loop at a time, and resume them."""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from loopwise.core import LoopRecord
from loopwise.core.tasks import headline, label_strings
from loopwise.errors import ConfigError, StoreError
from loopwise.experiments._build import build_loop, full_pool_accuracy
from loopwise.experiments._config import DataSpec, RunConfig
from loopwise.experiments._costs import LabelPrice
from loopwise.experiments._prepare import PreparedData, load_spec, prepare_data
from loopwise.labeling import check_quality_spec, drive, make_oracle
from loopwise.learners import EmbeddingCache, default_learner
from loopwise.loop import Loop, Schedule
from loopwise.storage import LoopWrite, Store, loop_write, stored_records


@dataclass(frozen=True)
class RunProgress:
    """What a progress display needs after each loop."""

    run_id: str
    label: str
    loop_index: int
    n_labelled: int
    budget: int
    accuracy: float | None


ProgressFn = Callable[[RunProgress], None]


def _loop_write(record: LoopRecord, loop: Loop, label_names: Sequence[str], price: LabelPrice) -> LoopWrite:
    ids = [str(i) for i in record.ids]
    label_cost = price.cost(ids, label_strings(loop.task, record.labels, label_names))
    return loop_write(record, label_names, label_cost=label_cost, model=loop.model, stop_set=loop.stop_set, task=loop.task)


class _Persister:
    """Commits each loop before the next starts, and reports progress."""

    def __init__(self, store: Store, run_id: str, loop: Loop, data: PreparedData, cost: LabelPrice, on_loop: ProgressFn | None, label: str) -> None:
        self.store, self.run_id, self.loop, self.data, self.cost = store, run_id, loop, data, cost
        self.on_loop, self.label = on_loop, label

    def __call__(self, record: LoopRecord) -> None:
        self.store.record_loop(self.run_id, _loop_write(record, self.loop, self.data.label_names, self.cost))
        if self.on_loop is not None:
            self.on_loop(
                RunProgress(
                    run_id=self.run_id,
                    label=self.label,
                    loop_index=record.loop_index,
                    n_labelled=record.n_labelled,
                    budget=self.loop.schedule.budget,
                    accuracy=record.metrics.get(headline(self.loop.task)[0]),
                )
            )


def simulate(
    store: Store,
    data: DataSpec | PreparedData,
    strategies: Sequence[str],
    seeds: int | Sequence[int],
    schedule: Schedule,
    *,
    learner: str | None = None,
    model: Any = None,
    strategy_params: dict[str, dict[str, Any]] | None = None,
    initializer: dict[str, Any] | str = "random",
    stopping: dict[str, Any] | None = None,
    retrain: str = "scratch",
    cost_per_label: float = 1.0,
    cost_per_class: dict[str, float] | None = None,
    compute_rate: float = 0.0,
    label_price: LabelPrice | None = None,
    label_quality: dict[str, Any] | None = None,
    on_loop: ProgressFn | None = None,
    on_run: Callable[[str, RunConfig], None] | None = None,
) -> list[str]:
    """Run every strategy with every seed on the same data; returns the run ids.

    Everything that can be checked is checked before the first write: the data
    loads, the strategies exist, the budget fits the pool, and loop 0 of each
    run trains and scores in memory before its run is created. So bad input
    leaves the store as it was. ``model`` is a custom learner (any classifier or
    ``CallbackLearner``); resuming such a run needs the same object again.
    Labels are priced by ``label_price`` (or ``cost_per_label`` and ``cost_per_class``),
    compute by ``compute_rate`` per CPU hour; both land in the cost ledger of each loop.
    ``label_quality`` simulates imperfect labels (``noise``, ``annotators``, ``consensus``,
    ``audit``; see ``loopwise.labeling._simulate``); the audit runs from loop 1 on.
    ``learner`` defaults to the task's (``logreg``; ``tfidf_ovr_logreg`` / ``ovr_logreg`` for
    multilabel text / features; ``bagging_trees`` for regression).
    """
    if isinstance(data, PreparedData):
        prepared = data
        learner = learner or default_learner(prepared.task, bool(prepared.dataset.text_columns))
    else:
        dataset = load_spec(data)
        learner = learner or default_learner(dataset.label_task, bool(dataset.text_columns))
        prepared = prepare_data(data, learner, dataset=dataset)
    price = (label_price or LabelPrice(cost_per_label, dict(cost_per_class or {}))).checked(prepared.label_names)
    compute_rate = _compute_rate(compute_rate)
    # Labelling everything: the break-even's upper line, priced like any loop's labels.
    full_label_cost = price.cost(
        [str(i) for i in prepared.pool_ids], label_strings(prepared.task, prepared.y_pool, prepared.label_names)
    )
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    init_spec = {"kind": initializer} if isinstance(initializer, str) else dict(initializer)
    comparison = uuid.uuid4().hex[:12]
    quality = check_quality_spec(label_quality or {})
    configs = [
        RunConfig(
            data=prepared.spec,
            strategy=name,
            seed=seed,
            schedule=schedule.describe(),
            learner=learner if model is None else f"custom:{type(model).__name__}",
            strategy_params=(strategy_params or {}).get(name, {}),
            initializer=init_spec,
            stopping=stopping,
            retrain=retrain,
            comparison=comparison,
            cost_per_label=float(price.per_label),
            cost_per_class=dict(price.per_class),
            compute_rate=compute_rate,
            full_label_cost=full_label_cost,
            label_quality=quality,
            task=prepared.task,
        )
        for name in strategies
        for seed in seed_list
    ]
    # Embeddings are kept per model version beside the store's other artifacts.
    cache = EmbeddingCache(store.artifacts_dir / "embeddings")
    loops = [build_loop(config, prepared, model, cache) for config in configs]  # validates every config
    reference = full_pool_accuracy(configs[0], prepared, model) if configs else None
    project_id: int | None = None
    run_ids: list[str] = []
    for config, loop in zip(configs, loops, strict=True):
        config.full_pool_accuracy = reference
        oracle, audit = make_oracle(config.label_quality, prepared.y_pool, prepared.n_classes, config.seed)
        first = loop.record(oracle.collect(loop.propose()))  # in memory: a failing learner writes nothing
        if project_id is None:
            project_id = _project_for(store, prepared, float(price.per_label))
        run_id = store.create_run(project_id, config.to_dict(), name=config.label, task=config.task)
        run_ids.append(run_id)
        if on_run is not None:
            on_run(run_id, config)
        persist = _Persister(store, run_id, loop, prepared, price, on_loop, config.label)
        persist(first)
        _finish(store, run_id, loop, oracle, persist, audit)
    return run_ids


def _compute_rate(value: float) -> float:
    rate = float(value)
    if not rate >= 0 or rate == float("inf"):
        raise ConfigError(f"compute rate (price of one CPU hour) must be a finite number >= 0, got {value!r}")
    return rate


def _project_for(store: Store, data: PreparedData, cost_per_label: float) -> int:
    ds = data.dataset
    project = store.get_or_create_project(ds.name, ds.task, data.label_names, cost_per_label=cost_per_label)
    store.add_records(project.id, [str(i) for i in ds.ids])
    return project.id


def _finish(store: Store, run_id: str, loop: Loop, oracle: Any, persist: _Persister, audit: Any = None) -> None:
    try:
        drive(loop, oracle, audit, on_record=persist)
    except BaseException:
        # Completed loops stay committed; the run is marked so `loopwise resume` can continue it.
        # A hard kill never gets here and leaves the run 'running', which resume also accepts.
        store.finish_run(run_id, status="failed")
        raise
    store.finish_run(run_id, status="finished")


def resume_run(store: Store, run_id: str, *, model: Any = None, on_loop: ProgressFn | None = None) -> str:
    """Continue a run from its last committed loop; same seed, same selections as an uninterrupted run."""
    info = store.get_run(run_id)
    if info.status == "finished":
        raise StoreError(f"run {run_id} has already finished ({info.n_loops} loops); nothing to resume")
    config = RunConfig.from_dict(info.config)
    data = prepare_data(config.data, config.learner)
    loop = build_loop(config, data, model, EmbeddingCache(store.artifacts_dir / "embeddings"))
    records = stored_records(store, run_id, data.pool_ids)
    checkpoint = store.load_model(run_id, records[-1].loop_index) if records else None
    loop.restore(records, pickle.loads(checkpoint) if checkpoint is not None else None)
    store.reopen_run(run_id)
    price = LabelPrice(config.cost_per_label, dict(config.cost_per_class))
    persist = _Persister(store, run_id, loop, data, price, on_loop, config.label)
    # Audit corrections of earlier loops' labels are not stored yet: a resumed audited run trains on the stored first answers.
    oracle, audit = make_oracle(config.label_quality, data.y_pool, data.n_classes, config.seed)
    _finish(store, run_id, loop, oracle, persist, audit)
    return run_id
