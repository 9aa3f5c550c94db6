"""What a retrain notes on each queue row it ranks: the model's top classes, the strategy, the loop and the rank.

The annotate page shows them as the suggestion (accepted with Enter) and as why the record was chosen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ._annotation_base import AnnotationBase
from ._queue_sql import SQL_NOTE


@dataclass(frozen=True, slots=True)
class Prediction:
    """The model's top classes for one record (class indices into the project's label names), best first."""

    top: list[tuple[int, float]]


@dataclass(frozen=True, slots=True)
class QueueNote:
    """What the last retrain that ranked a record said about it: its score, its rank, the model's top classes."""

    score: float | None
    strategy: str
    loop_index: int
    rank: int
    top: list[tuple[int, float]]


class NoteQueries(AnnotationBase):
    """Reading the note the last retrain left on a queue row."""

    def queue_note(self, record_id: int) -> QueueNote | None:
        """What the last retrain that ranked the record noted about it; None before any retrain did."""
        with self._engine.connect() as conn:
            found = conn.execute(SQL_NOTE, {"record": record_id}).first()
        return None if found is None else note_from(found.score, found.suggestion)


def note_from(score: float | None, suggestion: Any) -> QueueNote | None:
    """The note of a queue row's ``score`` and ``suggestion`` columns (JSON, parsed or as stored); None if unranked."""
    if isinstance(suggestion, (str, bytes)):
        suggestion = json.loads(suggestion)  # a text statement hands SQLite's JSON back as stored
    if not suggestion:
        return None
    return QueueNote(
        score=score, strategy=str(suggestion["strategy"]), loop_index=int(suggestion["loop"]),
        rank=int(suggestion["rank"]), top=[(int(i), float(p)) for i, p in suggestion["top"]],
    )


def ranking_rows(
    record_ids: list[int], ranks: list[int], scores: list[float | None], predictions: list[Prediction | None],
    strategy: str, loop_index: int,
) -> list[dict[str, Any]]:
    """Parameters of SQL_SET_RANK_NOTED: each row's rank and score, the top class, and the note (rank is 1-based)."""
    rows = []
    for position, (record_id, rank, score, prediction) in enumerate(zip(record_ids, ranks, scores, predictions, strict=True)):
        top = [] if prediction is None else [[int(i), round(float(p), 4)] for i, p in prediction.top]
        rows.append({
            "record_id": int(record_id), "rank": int(rank), "score": score,
            "predicted": top[0][0] if top else None, "confidence": top[0][1] if top else None,
            "suggestion": {"strategy": strategy, "loop": int(loop_index), "rank": position + 1, "top": top},
        })
    return rows


__all__ = ["NoteQueries", "Prediction", "QueueNote", "note_from", "ranking_rows"]
