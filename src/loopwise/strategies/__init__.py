"""Querying strategies: pure scoring functions and small strategy classes over arrays."""

from loopwise.strategies._base import (
    COMMITTEE,
    EMBEDDINGS,
    FEATURES,
    HISTORY,
    KNOWN_REQUIREMENTS,
    MC_SAMPLES,
    PROBA,
    History,
    Strategy,
    StrategyInputs,
    score_in_chunks,
)
from loopwise.strategies._committee import QueryByCommittee, kl_to_consensus, vote_entropy
from loopwise.strategies._density import InformationDensity, cosine_density
from loopwise.strategies._random import RandomSampling
from loopwise.strategies._registry import available, make_strategy, register
from loopwise.strategies._uncertainty import (
    EntropySampling,
    LeastConfidence,
    MarginSampling,
    entropy,
    least_confidence,
    margin,
)

for _cls in (RandomSampling, LeastConfidence, MarginSampling, EntropySampling, QueryByCommittee, InformationDensity):
    register(_cls)

__all__ = [
    "COMMITTEE",
    "EMBEDDINGS",
    "FEATURES",
    "HISTORY",
    "KNOWN_REQUIREMENTS",
    "MC_SAMPLES",
    "PROBA",
    "EntropySampling",
    "History",
    "InformationDensity",
    "LeastConfidence",
    "MarginSampling",
    "QueryByCommittee",
    "RandomSampling",
    "Strategy",
    "StrategyInputs",
    "available",
    "cosine_density",
    "entropy",
    "kl_to_consensus",
    "least_confidence",
    "make_strategy",
    "margin",
    "register",
    "score_in_chunks",
    "vote_entropy",
]
