"""The model's suggestion for a record and why the queue chose it, from what the last retrain noted."""

from __future__ import annotations

from collections.abc import Sequence

from loopwise.server import _schemas as s
from loopwise.storage._annotation_notes import QueueNote


def suggestion_public(note: QueueNote | None, label_names: Sequence[str]) -> s.SuggestionPublic | None:
    """The predicted class with its probability and the runners-up, named; None without a prediction."""
    if note is None or not note.top:
        return None
    top = [s.ClassProbability(label=label_names[i], probability=p) for i, p in note.top if 0 <= i < len(label_names)]
    if not top:
        return None
    return s.SuggestionPublic(label=top[0].label, probability=top[0].probability, top=top, loop_index=note.loop_index)


def chosen_public(note: QueueNote | None) -> s.ChosenPublic | None:
    """Why the record was served, in data and in one line."""
    if note is None:
        return None
    if note.score is None:
        summary = f"Rank {note.rank} after loop {note.loop_index}: outside {note.strategy}'s batch, so in random order"
    else:
        summary = f"Chosen by {note.strategy} in loop {note.loop_index}: rank {note.rank}, score {note.score:.3g}"
    return s.ChosenPublic(
        strategy=note.strategy, score=note.score, rank=note.rank, loop_index=note.loop_index, summary=summary
    )


__all__ = ["chosen_public", "suggestion_public"]
