"""The domain core: pools, records of loops and selection helpers over NumPy arrays."""

from loopwise.core.pool import Pool
from loopwise.core.records import LoopRecord, Query, Selection
from loopwise.core.topk import StreamingTopK, merge_top_k, partial_top_k, top_k
from loopwise.core.validation import check_features, check_proba

__all__ = [
    "LoopRecord",
    "Pool",
    "Query",
    "Selection",
    "StreamingTopK",
    "check_features",
    "check_proba",
    "merge_top_k",
    "partial_top_k",
    "top_k",
]
