"""The domain core: pools, records of loops and selection helpers over NumPy arrays."""

from loopwise.core.pool import Pool
from loopwise.core.records import LoopRecord, Query, Selection
from loopwise.core.topk import top_k
from loopwise.core.validation import check_features, check_proba

__all__ = ["LoopRecord", "Pool", "Query", "Selection", "check_features", "check_proba", "top_k"]
