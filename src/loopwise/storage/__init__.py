"""The store: projects, records, runs, loops and append-only labels in SQL; arrays and models on disk."""

from __future__ import annotations

from ._annotation_store import AnnotationRepository, ConflictError
from ._loop_records import SELECTION, loop_write, model_checkpoint, stored_records, stored_stop_set
from ._store import Store
from ._types import LabelInfo, LoopInfo, LoopWrite, ProjectInfo, RunInfo

__all__ = ["SELECTION", "AnnotationRepository", "ConflictError", "LabelInfo", "LoopInfo", "LoopWrite", "ProjectInfo", "RunInfo", "Store", "loop_write", "model_checkpoint", "stored_records", "stored_stop_set"]
