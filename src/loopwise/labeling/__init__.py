"""Oracles that answer queries: simulated ground truth for experiments, or user callbacks."""

from loopwise.labeling._oracles import CallbackOracle, Oracle, SimulatedOracle

__all__ = ["CallbackOracle", "Oracle", "SimulatedOracle"]
