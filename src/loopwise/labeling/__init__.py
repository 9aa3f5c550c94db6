"""Oracles and label quality: simulated (perfect or noisy) annotators, callbacks, audit, consensus, auto- and weak labels."""

from loopwise.labeling._autolabel import AUTO_SOURCE, AutoLabeler, AutoLabels, choose_threshold
from loopwise.labeling._audit import LabelAudit, out_of_fold_proba, rank_label_issues, run_audited_simulation
from loopwise.labeling._consensus import (
    CONSENSUS_METHODS,
    Consensus,
    consensus,
    crowdlab,
    dawid_skene,
    majority_vote,
    relabel_candidates,
)
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
from loopwise.labeling._simulate import PanelOracle, check_quality_spec, drive, make_oracle
from loopwise.labeling._weak import (
    WEAK_SOURCE,
    WeakLabels,
    apply_lfs,
    keyword_lf,
    labeling_function,
    lf_summary,
    regex_lf,
    weak_labels,
    weak_sample_weights,
)

__all__ = [
    "ABSTAIN",
    "AUTO_SOURCE",
    "AnnotatorPanel",
    "AutoLabeler",
    "AutoLabels",
    "CONSENSUS_METHODS",
    "CallbackOracle",
    "Consensus",
    "LabelAudit",
    "NoisyOracle",
    "Oracle",
    "PanelOracle",
    "SimulatedOracle",
    "WEAK_SOURCE",
    "WeakLabels",
    "apply_lfs",
    "check_quality_spec",
    "choose_threshold",
    "class_conditional_confusion",
    "consensus",
    "crowdlab",
    "dawid_skene",
    "drive",
    "draw_labels",
    "keyword_lf",
    "labeling_function",
    "lf_summary",
    "majority_vote",
    "make_oracle",
    "noise_rng",
    "out_of_fold_proba",
    "rank_label_issues",
    "regex_lf",
    "relabel_candidates",
    "run_audited_simulation",
    "uniform_confusion",
    "weak_labels",
    "weak_sample_weights",
]
