"""The store: projects, records, runs, loops and append-only labels in SQL; arrays and models on disk."""

from __future__ import annotations

from ._annotation_store import AnnotationRepository, ConflictError
from ._store import Store
from ._types import LabelInfo, LoopInfo, LoopWrite, ProjectInfo, RunInfo

__all__ = ["AnnotationRepository", "ConflictError", "LabelInfo", "LoopInfo", "LoopWrite", "ProjectInfo", "RunInfo", "Store"]
