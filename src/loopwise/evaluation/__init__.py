"""Test-set metrics for one loop, computed with scikit-learn."""

from loopwise.evaluation._metrics import evaluate

__all__ = ["evaluate"]
