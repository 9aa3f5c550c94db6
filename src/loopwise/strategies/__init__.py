"""Querying strategies: pure scoring functions and small strategy classes over arrays."""

from loopwise.strategies._base import (
    COMMITTEE,
    EMBEDDINGS,
    FEATURES,
    HISTORY,
    KNOWN_REQUIREMENTS,
    LABELS,
    MC_SAMPLES,
    PROBA,
    TOKEN_MARGINALS,
    History,
    LabelledLoop,
    Strategy,
    StrategyInputs,
    score_in_chunks,
)
from loopwise.strategies._capabilities import (
    CLASSIFICATION,
    K_CENTER,
    MULTILABEL,
    PARTITIONINGS,
    REGRESSION,
    TASKS,
    TOKEN_CLASSIFICATION,
    TOP_K,
    Capabilities,
    capabilities,
    describe,
    is_row_local,
    ranks_candidates,
    serves_loop_zero,
    serves_task,
)
from loopwise.strategies._auto import AutoLearned, AutoNoBandit, AutoNoSlice, AutoStrategy
from loopwise.strategies._auto_arms import CoveredMargin, covered_margin
from loopwise.strategies._badge import Badge, badge, gradient_embedding
from loopwise.strategies._bayesian import BALD, MeanSTD, VariationRatios, bald, mean_std, variation_ratio
from loopwise.strategies._cluster_margin import ClusterMargin, average_linkage_labels, cluster_margin, round_robin
from loopwise.strategies._committee import QueryByCommittee, kl_to_consensus, vote_entropy
from loopwise.strategies._diverse import DiverseSampling, diverse
from loopwise.strategies._density import InformationDensity, cosine_density
from loopwise.strategies._hybrid import WeightedHybrid, rank_normalise
from loopwise.strategies._learned import LearnedSelector, spread_top
from loopwise.strategies._learned_features import FEATURE_NAMES as LEARNED_FEATURES
from loopwise.strategies._learned_features import candidate_features
from loopwise.strategies._kcenter import KCenterGreedy, NormalizedKCenterGreedy, k_center_greedy
from loopwise.strategies._probcover import ProbCover, coverage_graph, prob_cover, purity_radius
from loopwise.strategies._random import RandomSampling
from loopwise.strategies._ranked_batch import RankedBatch, ranked_batch
from loopwise.strategies._registry import BUILTIN, available, make_strategy, register, registered, registered_classes, strategy_class
from loopwise.strategies._pairwise import unit_rows
from loopwise.strategies._streaming import ChunkedScorer, row_local_names, select_streaming
from loopwise.strategies._typiclust import TypiClust, typicality, typiclust
from loopwise.strategies._uncertainty import (
    EntropySampling,
    LeastConfidence,
    MarginSampling,
    entropy,
    least_confidence,
    margin,
)

__all__ = [
    "BALD",
    "BUILTIN",
    "CLASSIFICATION",
    "COMMITTEE",
    "EMBEDDINGS",
    "FEATURES",
    "HISTORY",
    "K_CENTER",
    "KNOWN_REQUIREMENTS",
    "LABELS",
    "MC_SAMPLES",
    "MULTILABEL",
    "PARTITIONINGS",
    "PROBA",
    "REGRESSION",
    "TASKS",
    "TOKEN_CLASSIFICATION",
    "TOP_K",
    "AutoLearned",
    "AutoNoBandit",
    "AutoNoSlice",
    "AutoStrategy",
    "available",
    "average_linkage_labels",
    "badge",
    "Badge",
    "bald",
    "candidate_features",
    "capabilities",
    "Capabilities",
    "ChunkedScorer",
    "cluster_margin",
    "ClusterMargin",
    "cosine_density",
    "coverage_graph",
    "covered_margin",
    "CoveredMargin",
    "describe",
    "diverse",
    "DiverseSampling",
    "entropy",
    "EntropySampling",
    "gradient_embedding",
    "History",
    "InformationDensity",
    "is_row_local",
    "k_center_greedy",
    "KCenterGreedy",
    "kl_to_consensus",
    "LabelledLoop",
    "LEARNED_FEATURES",
    "LearnedSelector",
    "least_confidence",
    "LeastConfidence",
    "make_strategy",
    "margin",
    "MarginSampling",
    "mean_std",
    "MeanSTD",
    "NormalizedKCenterGreedy",
    "prob_cover",
    "ProbCover",
    "purity_radius",
    "QueryByCommittee",
    "RandomSampling",
    "rank_normalise",
    "ranked_batch",
    "RankedBatch",
    "ranks_candidates",
    "register",
    "registered",
    "registered_classes",
    "round_robin",
    "row_local_names",
    "score_in_chunks",
    "select_streaming",
    "spread_top",
    "serves_loop_zero",
    "serves_task",
    "Strategy",
    "strategy_class",
    "StrategyInputs",
    "typicality",
    "TypiClust",
    "typiclust",
    "unit_rows",
    "variation_ratio",
    "VariationRatios",
    "vote_entropy",
    "WeightedHybrid",
]
