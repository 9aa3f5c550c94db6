"""What a retrain writes to the queue: the new ranks (in bands, head only) and the model's top classes per ranked row."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from loopwise.storage._annotation_notes import Prediction

HEAD_SIZE = 2000  # ranks written per retrain (see rank_rows)
TOP_CLASSES = 3
_BAND = 1_000_000
_FULL_EVERY = 2000


def rank_rows(
    loop_index: int, front: list[int], ranking: list[int], scores: list[float | None], head_size: int
) -> tuple[list[int], list[int], list[float | None]]:
    """The rank updates one retrain writes.

    Only the head of the new ranking is written, with ranks below every earlier loop's (each loop
    gets its own band of negative numbers), so it is served before anything ranked before; the
    tail keeps its older order until annotators get that far. Every ``_FULL_EVERY`` loops, or when
    the ranking is short, the whole ranking is written with ranks from 0, which also keeps the
    numbers within a 32-bit integer.
    """
    full = (loop_index + 1) % _FULL_EVERY == 0 or len(ranking) <= head_size
    head = ranking if full else ranking[:head_size]
    base = 0 if full else -((loop_index % _FULL_EVERY) + 1) * _BAND
    start = base - len(front) - (0 if full else len(head))
    record_ids = front + head
    ranks = list(range(start, start + len(record_ids)))
    return record_ids, ranks, [None] * len(front) + list(scores[: len(head)])


def top_predictions(
    pool_ids: np.ndarray, proba: np.ndarray, record_ids: Sequence[int], top: int = TOP_CLASSES
) -> list[Prediction | None]:
    """The ``top`` most probable classes of each of ``record_ids`` (rows of ``proba`` follow ``pool_ids``)."""
    ids = np.asarray(pool_ids, dtype=np.int64)
    wanted = np.asarray(record_ids, dtype=np.int64)
    if ids.size == 0 or wanted.size == 0 or proba.ndim != 2 or len(proba) != len(ids):
        return [None] * len(wanted)
    order = np.argsort(ids, kind="stable")
    at = np.minimum(np.searchsorted(ids[order], wanted), len(ids) - 1)
    rows = order[at]
    found = ids[rows] == wanted
    # Stable sort of the negated row: equal probabilities keep class order, so ties are reproducible.
    best = np.argsort(-proba[rows], axis=1, kind="stable")[:, :top]
    out: list[Prediction | None] = []
    for i, row in enumerate(rows):
        if not found[i]:
            out.append(None)
            continue
        out.append(Prediction([(int(c), float(proba[row, c])) for c in best[i]]))
    return out


def predictions_for(arrays: dict[str, np.ndarray], record_ids: Sequence[int]) -> list[Prediction | None] | None:
    """Top classes of ``record_ids`` from a retrain's stored arrays; None when they hold no pool probabilities."""
    proba, ids = arrays.get("pool_proba"), arrays.get("pool_record_ids")
    if proba is None or ids is None:
        return None
    return top_predictions(ids, proba, record_ids)


__all__ = ["HEAD_SIZE", "TOP_CLASSES", "predictions_for", "rank_rows", "top_predictions"]
