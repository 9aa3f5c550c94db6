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
    LabelledLoop,
    Strategy,
    StrategyInputs,
    score_in_chunks,
)
from loopwise.strategies._auto import AutoNoBandit, AutoNoSlice, AutoStrategy
from loopwise.strategies._auto_arms import CoveredMargin, covered_margin
from loopwise.strategies._badge import Badge, badge, gradient_embedding
from loopwise.strategies._bayesian import BALD, MeanSTD, VariationRatios, bald, mean_std, variation_ratio
from loopwise.strategies._cluster_margin import ClusterMargin, average_linkage_labels, cluster_margin, round_robin
from loopwise.strategies._committee import QueryByCommittee, kl_to_consensus, vote_entropy
from loopwise.strategies._density import InformationDensity, cosine_density
from loopwise.strategies._hybrid import WeightedHybrid, rank_normalise
from loopwise.strategies._kcenter import KCenterGreedy, NormalizedKCenterGreedy, k_center_greedy
from loopwise.strategies._probcover import ProbCover, coverage_graph, prob_cover, purity_radius
from loopwise.strategies._random import RandomSampling
from loopwise.strategies._ranked_batch import RankedBatch, ranked_batch
from loopwise.strategies._registry import available, make_strategy, register, registered
from loopwise.strategies._pairwise import unit_rows
from loopwise.strategies._streaming import ROW_LOCAL, ChunkedScorer, is_row_local, select_streaming
from loopwise.strategies._typiclust import TypiClust, typicality, typiclust
from loopwise.strategies._uncertainty import (
    EntropySampling,
    LeastConfidence,
    MarginSampling,
    entropy,
    least_confidence,
    margin,
)

for _cls in (
    RandomSampling,
    LeastConfidence,
    MarginSampling,
    EntropySampling,
    QueryByCommittee,
    InformationDensity,
    KCenterGreedy,
    NormalizedKCenterGreedy,
    Badge,
    ClusterMargin,
    TypiClust,
    ProbCover,
    RankedBatch,
    BALD,
    MeanSTD,
    VariationRatios,
    WeightedHybrid,
    AutoStrategy,
    AutoNoBandit,
    AutoNoSlice,
    CoveredMargin,
):
    register(_cls)

__all__ = [
    "AutoNoBandit",
    "AutoNoSlice",
    "AutoStrategy",
    "BALD",
    "COMMITTEE",
    "ROW_LOCAL",
    "EMBEDDINGS",
    "FEATURES",
    "HISTORY",
    "KNOWN_REQUIREMENTS",
    "MC_SAMPLES",
    "PROBA",
    "Badge",
    "ChunkedScorer",
    "ClusterMargin",
    "CoveredMargin",
    "EntropySampling",
    "History",
    "InformationDensity",
    "KCenterGreedy",
    "LabelledLoop",
    "LeastConfidence",
    "MarginSampling",
    "MeanSTD",
    "NormalizedKCenterGreedy",
    "ProbCover",
    "QueryByCommittee",
    "RandomSampling",
    "RankedBatch",
    "Strategy",
    "StrategyInputs",
    "TypiClust",
    "VariationRatios",
    "WeightedHybrid",
    "available",
    "average_linkage_labels",
    "badge",
    "bald",
    "cluster_margin",
    "cosine_density",
    "covered_margin",
    "coverage_graph",
    "entropy",
    "gradient_embedding",
    "is_row_local",
    "k_center_greedy",
    "kl_to_consensus",
    "least_confidence",
    "make_strategy",
    "margin",
    "mean_std",
    "prob_cover",
    "purity_radius",
    "rank_normalise",
    "ranked_batch",
    "register",
    "registered",
    "round_robin",
    "score_in_chunks",
    "select_streaming",
    "typicality",
    "typiclust",
    "unit_rows",
    "variation_ratio",
    "vote_entropy",
]
