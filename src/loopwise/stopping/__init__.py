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
from loopwise.stopping._cost_aware import (  # registers its rules with parse_stopping
    ClassificationChange,
    CostAwareStop,
    DeltaF,
    OverallUncertainty,
    agreement_f1,
    fit_power_law,
    hindsight_best_loop,
    label_only_accuracy,
    loop_compute_seconds,
    predicted_gain,
)

__all__ = [
    "ClassificationChange",
    "CostAwareStop",
    "DeltaF",
    "OverallUncertainty",
    "agreement_f1",
    "fit_power_law",
    "hindsight_best_loop",
    "label_only_accuracy",
    "loop_compute_seconds",
    "predicted_gain",
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
