"""How long annotators spent on each label, measured from the server's event log; pure functions.

A label's time is the gap since the same annotator's previous action in the project (a label, a
skip, a flag or an undo): the time to read the record served after it and decide. A gap longer than
``break_after`` is a break, not work, and so is the first action of an annotator (nothing says when
they began); those labels are *imputed* with the median of the annotator's measured times (the
project's median when the annotator has none), and counted as imputed so a report can say how much
of the figure is measured.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

#: Seconds after which a gap between two actions is a break rather than time spent on a record.
BREAK_AFTER_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class AnnotatorAction:
    """One row of the event log: who did what to which record, and when."""

    annotator_id: int
    record_id: int
    kind: str  # label, skip, flag, undo
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LabelTime:
    """Annotator seconds spent on a set of labels: their sum, and how many of them were measured or imputed."""

    seconds: float
    n_measured: int
    n_imputed: int


def label_gaps(actions: Iterable[AnnotatorAction], break_after: float = BREAK_AFTER_SECONDS) -> list[tuple[AnnotatorAction, float | None]]:
    """Each label action with its measured seconds, or ``None`` where the gap before it is a break or unknown."""
    by_annotator: dict[int, list[AnnotatorAction]] = {}
    for action in actions:
        by_annotator.setdefault(action.annotator_id, []).append(action)
    out: list[tuple[AnnotatorAction, float | None]] = []
    for own in by_annotator.values():
        own.sort(key=lambda a: a.created_at)
        previous: datetime | None = None
        for action in own:
            if action.kind == "label":
                gap = None if previous is None else (action.created_at - previous).total_seconds()
                out.append((action, gap if gap is not None and 0.0 <= gap <= break_after else None))
            previous = action.created_at
    return out


def time_on(
    record_ids: Sequence[int], actions: Iterable[AnnotatorAction], break_after: float = BREAK_AFTER_SECONDS
) -> LabelTime:
    """Annotator seconds spent on every label given to ``record_ids`` (each annotator's, undone ones too: that time was spent)."""
    gaps = label_gaps(actions, break_after)
    measured = [g for _, g in gaps if g is not None]
    project_median = float(np.median(measured)) if measured else 0.0
    own: dict[int, list[float]] = {}
    for action, gap in gaps:
        if gap is not None:
            own.setdefault(action.annotator_id, []).append(gap)
    wanted = set(int(r) for r in record_ids)
    seconds, n_measured, n_imputed = 0.0, 0, 0
    for action, gap in gaps:
        if action.record_id not in wanted:
            continue
        if gap is not None:
            seconds += gap
            n_measured += 1
        else:
            theirs = own.get(action.annotator_id)
            seconds += float(np.median(theirs)) if theirs else project_median
            n_imputed += 1
    return LabelTime(seconds=seconds, n_measured=n_measured, n_imputed=n_imputed)
