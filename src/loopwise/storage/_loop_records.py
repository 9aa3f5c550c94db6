"""Engine loop records to and from the store: the one mapping that simulate, resume and the annotation server share."""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from loopwise.core import LoopRecord
from loopwise.core.tasks import CLASSIFICATION, label_strings
from loopwise.errors import StoreError

from ._store import Store
from ._types import LoopWrite

#: Key of a stored loop's metrics that holds the strategy's account of its selection (``LoopRecord.extra["selection"]``).
SELECTION = "selection"


def model_checkpoint(model: Any) -> bytes | None:
    """The trained model pickled for resume; ``None`` for a model that cannot be pickled (it is retrained instead)."""
    try:
        return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError):
        return None


def loop_write(
    record: LoopRecord,
    label_names: Sequence[str],
    *,
    label_cost: float,
    model: Any,
    stop_set: np.ndarray,
    arrays: Mapping[str, np.ndarray] | None = None,
    label_source: str = "oracle",
    task: str = CLASSIFICATION,
) -> LoopWrite:
    """What one engine loop persists: ids and class names of its labels, their price, per-record scores,
    the pool probabilities it selected from, the run's fixed stop set and the model checkpoint.

    ``arrays`` adds the caller's own arrays (the server's queue ranking). ``task`` says how the labels
    are written as label rows (class names, ``|``-joined label names, numbers; ``loopwise.core.tasks``).
    """
    stored = {
        "positions": record.positions,
        "labels": record.labels,
        "stop_predictions": record.stop_predictions,
        "stop_set": np.asarray(stop_set, dtype=np.int64),
        "scores": np.asarray(record.scores if record.scores is not None else [], dtype=np.float64),
        **dict(arrays or {}),
    }
    if record.pool_proba is not None:
        stored["pool_proba"] = record.pool_proba
    return LoopWrite(
        loop_index=record.loop_index,
        strategy=record.strategy,
        selected_ids=[str(i) for i in record.ids],
        labels=label_strings(task, record.labels, label_names),
        n_labelled=record.n_labelled,
        # What the strategy said about its choice (auto's arm, reason, slice verdict) rides with the metrics.
        metrics={**record.metrics, **({SELECTION: record.extra["selection"]} if record.extra.get("selection") else {})},
        timings=record.timings,
        label_cost=float(label_cost),
        arrays=stored,
        model=model_checkpoint(model),
        label_source=label_source,
    )


def stored_records(store: Store, run_id: str, pool_ids: np.ndarray) -> list[LoopRecord]:
    """The LoopRecords of a run's committed loops, rebuilt from rows and artifacts against the pool ``pool_ids``.

    A pool that grew since a loop (records imported later, at the end) gets uniform probabilities for the
    new records in that loop's stored pool probabilities, so the history keeps one row per record.
    """
    position_of = {str(rid): i for i, rid in enumerate(np.asarray(pool_ids).tolist())}
    records = []
    for info in store.loops(run_id):
        arrays = store.load_arrays(info.artifact_hash)
        missing = [i for i in info.selected_ids if i not in position_of]
        if missing:
            raise StoreError(f"run {run_id} loop {info.loop_index}: records {missing[:5]} are no longer in the pool")
        positions = np.asarray([position_of[i] for i in info.selected_ids], dtype=np.int64)
        if not np.array_equal(positions, arrays["positions"]):
            raise StoreError(f"run {run_id} loop {info.loop_index}: the data no longer matches the stored selection")
        pool_proba = arrays.get("pool_proba")
        if pool_proba is not None and len(pool_proba) < len(position_of):
            grown = np.full((len(position_of), pool_proba.shape[1]), 1.0 / pool_proba.shape[1], dtype=pool_proba.dtype)
            grown[: len(pool_proba)] = pool_proba
            pool_proba = grown
        metrics = {k: v for k, v in info.metrics.items() if k != SELECTION}
        records.append(
            LoopRecord(
                loop_index=info.loop_index,
                strategy=info.strategy,
                positions=positions,
                ids=np.asarray(pool_ids)[positions],
                labels=arrays["labels"],
                n_labelled=info.n_labelled,
                metrics=metrics,
                timings=info.timings,
                stop_predictions=arrays["stop_predictions"],
                pool_proba=pool_proba,
                scores=arrays["scores"],
                extra={SELECTION: info.metrics[SELECTION]} if SELECTION in info.metrics else {},
            )
        )
    return records


def stored_stop_set(store: Store, run_id: str) -> np.ndarray | None:
    """The stop set the run's first loop fixed (pool positions), or ``None`` for a run without one stored."""
    loops = store.loops(run_id)
    if not loops:
        return None
    stop_set = store.load_arrays(loops[0].artifact_hash).get("stop_set")
    return None if stop_set is None else np.asarray(stop_set, dtype=np.int64)
