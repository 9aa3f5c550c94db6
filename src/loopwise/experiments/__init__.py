"""Experiments: run, persist, resume and report active-learning runs against a store."""

from loopwise.experiments._build import build_loop
from loopwise.experiments._config import RunConfig
from loopwise.experiments._costs import LabelPrice
from loopwise.experiments._prepare import PreparedData, learner_features, prepare_data
from loopwise.experiments._execute import RunProgress, resume_run, simulate
from loopwise.experiments._results import load_results

__all__ = [
    "LabelPrice", "PreparedData", "RunConfig", "RunProgress", "build_loop", "learner_features", "load_results",
    "prepare_data", "resume_run", "simulate",
]
