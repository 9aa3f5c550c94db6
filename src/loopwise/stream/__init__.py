"""Stream-based active learning: ask for a label on the spot, under a budget, with an incremental learner."""

from __future__ import annotations

from loopwise.stream._budget import (
    MANAGERS,
    BalancedIncrementalQuantileFilter,
    BudgetManager,
    FixedUncertainty,
    RandomSampling,
    RandomizedVariableUncertainty,
    Split,
    VariableUncertainty,
    make_manager,
)
from loopwise.stream._learner import LEARNERS, IncrementalLearner
from loopwise.stream._prequential import Prequential
from loopwise.stream._run import ChunkOutcome, StreamState, chunk_rng, run_chunk, simulate_stream

__all__ = [
    "LEARNERS",
    "MANAGERS",
    "BalancedIncrementalQuantileFilter",
    "BudgetManager",
    "ChunkOutcome",
    "FixedUncertainty",
    "IncrementalLearner",
    "Prequential",
    "RandomSampling",
    "RandomizedVariableUncertainty",
    "Split",
    "StreamState",
    "VariableUncertainty",
    "chunk_rng",
    "make_manager",
    "run_chunk",
    "simulate_stream",
]
