"""Test-set metrics for one loop, computed with scikit-learn, chosen by the pool's task."""

from loopwise.evaluation._metrics import evaluate
from loopwise.evaluation._tasks import EVALUATORS, evaluate_multilabel, evaluate_regression, evaluator_for

__all__ = ["EVALUATORS", "evaluate", "evaluate_multilabel", "evaluate_regression", "evaluator_for"]
