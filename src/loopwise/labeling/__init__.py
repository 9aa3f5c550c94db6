"""Oracles and label quality: simulated (perfect or noisy) annotators, callbacks, audit, consensus, auto- and weak labels."""

from loopwise.labeling._audit import LabelAudit, out_of_fold_proba, rank_label_issues, run_audited_simulation
from loopwise.labeling._noisy import (
    ABSTAIN,
    AnnotatorPanel,
    NoisyOracle,
    class_conditional_confusion,
    draw_labels,
    noise_rng,
    uniform_confusion,
)
from loopwise.labeling._oracles import CallbackOracle, Oracle, SimulatedOracle

__all__ = [
    "ABSTAIN",
    "AnnotatorPanel",
    "CallbackOracle",
    "LabelAudit",
    "NoisyOracle",
    "Oracle",
    "SimulatedOracle",
    "class_conditional_confusion",
    "draw_labels",
    "noise_rng",
    "out_of_fold_proba",
    "rank_label_issues",
    "run_audited_simulation",
    "uniform_confusion",
]
