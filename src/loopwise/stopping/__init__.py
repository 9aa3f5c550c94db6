"""Stopping criteria: pure predicates over the recorded loops, composable with any/all."""

from loopwise.stopping._criteria import (
    AllOf,
    AnyOf,
    LabelBudget,
    MaxLoops,
    Plateau,
    StabilizingPredictions,
    StoppingCriterion,
    TargetMetric,
    cohen_kappa,
    parse_stopping,
)

__all__ = [
    "AllOf",
    "AnyOf",
    "LabelBudget",
    "MaxLoops",
    "Plateau",
    "StabilizingPredictions",
    "StoppingCriterion",
    "TargetMetric",
    "cohen_kappa",
    "parse_stopping",
]
