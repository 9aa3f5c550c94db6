"""The loop: the propose -> record state machine, its schedules, initialisation and simulation driver."""

from loopwise.loop._infer import LinearSoftmax, iter_proba, predict_proba_pool
from loopwise.loop._initial import GivenIds, Initializer, RandomInit, StrategyInit, loop_zero_strategies
from loopwise.loop._cold_start import DiverseInit, ProbCoverInit, TypiClustInit, initializer_kinds, parse_initializer
from loopwise.loop._loop import RETRAIN_MODES, Loop, loop_rng, run_simulation
from loopwise.loop._retrain import ProxySelection, SEALSCandidates
from loopwise.loop._restart import choose_start, held_out_accuracy
from loopwise.loop._schedules import AdaptiveSchedule, FixedSchedule, GeometricSchedule, ListSchedule, Schedule, parse_schedule

__all__ = [
    "RETRAIN_MODES",
    "AdaptiveSchedule",
    "DiverseInit",
    "FixedSchedule",
    "GeometricSchedule",
    "GivenIds",
    "Initializer",
    "LinearSoftmax",
    "ListSchedule",
    "Loop",
    "ProbCoverInit",
    "ProxySelection",
    "RandomInit",
    "SEALSCandidates",
    "Schedule",
    "StrategyInit",
    "TypiClustInit",
    "choose_start",
    "held_out_accuracy",
    "initializer_kinds",
    "iter_proba",
    "loop_rng",
    "loop_zero_strategies",
    "parse_initializer",
    "parse_schedule",
    "predict_proba_pool",
    "run_simulation",
]
