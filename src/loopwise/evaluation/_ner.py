"""Entity-level precision, recall and F1 of BIO tag sequences, by seqeval's (conlleval's) conventions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loopwise.errors import DataError


def entity_scores(y_true: Sequence[Sequence[str]], y_pred: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Micro entity precision/recall/F1 and F1 per entity type (seqeval default mode: conlleval's chunking), plus token accuracy.

    An entity counts as found only when its type and both ends match; the
    default mode reads a stray ``I-X`` as the start of an entity, as
    conlleval does.
    """
    if len(y_true) != len(y_pred):
        raise DataError(f"{len(y_true)} true tag sequences but {len(y_pred)} predicted ones")
    for i, (t, p) in enumerate(zip(y_true, y_pred, strict=True)):
        if len(t) != len(p):
            raise DataError(f"sentence {i}: {len(t)} true tags but {len(p)} predicted")
    from seqeval.metrics import accuracy_score, classification_report, f1_score, precision_score, recall_score

    true, pred = [list(t) for t in y_true], [list(p) for p in y_pred]
    report = classification_report(true, pred, output_dict=True, zero_division=0)
    per_type = {name: float(row["f1-score"]) for name, row in report.items() if not name.endswith(" avg")}
    return {
        "entity_f1": float(f1_score(true, pred, zero_division=0)),
        "entity_precision": float(precision_score(true, pred, zero_division=0)),
        "entity_recall": float(recall_score(true, pred, zero_division=0)),
        "per_type_f1": per_type,
        "token_accuracy": float(accuracy_score(true, pred)),
    }
