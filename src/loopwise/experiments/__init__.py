"""Experiments: run, persist, resume and report active-learning runs against a store."""

from loopwise.experiments._config import RunConfig
from loopwise.experiments._prepare import PreparedData, prepare_data
from loopwise.experiments._execute import RunProgress, resume_run, simulate
from loopwise.experiments._results import load_results

__all__ = ["PreparedData", "RunConfig", "RunProgress", "load_results", "prepare_data", "resume_run", "simulate"]
