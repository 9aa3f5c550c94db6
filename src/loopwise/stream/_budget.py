"""Budget managers: the one predicate of stream-based active learning, "ask for this record's label?"."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from loopwise.errors import ConfigError


class BudgetManager:
    """Base: holds the budget (fraction of the stream to label) and Žliobaitė's windowed spending estimate.

    The estimate is û_t = û_{t-1}·(w-1)/w + asked_t, and a manager may ask only while
    û_t / w < budget (Žliobaitė et al. 2014, Sec. 4.1); ``w`` is the window.
    """

    name = "base"

    def __init__(self, budget: float, window: int = 100) -> None:
        if not 0.0 < budget <= 1.0:
            raise ConfigError(f"budget must be a fraction in (0, 1], got {budget!r}")
        if window < 1:
            raise ConfigError(f"the budget window must be >= 1 record, got {window!r}")
        self.budget = float(budget)
        self.window = int(window)
        self.spent_estimate = 0.0

    def within_budget(self) -> bool:
        """True while the windowed spending estimate is below the budget."""
        return self.spent_estimate / self.window < self.budget

    def ask(self, proba: np.ndarray, rng: np.random.Generator) -> bool:
        """Decide for one record, from the model's class probabilities, and book the spending."""
        decision = self._decide(np.asarray(proba, dtype=np.float64), rng)
        self.spent_estimate = self.spent_estimate * (self.window - 1) / self.window + float(decision)
        return decision

    def _decide(self, proba: np.ndarray, rng: np.random.Generator) -> bool:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """The manager's name and parameters, for the run's config."""
        return {"name": self.name, "budget": self.budget, "window": self.window}


class RandomSampling(BudgetManager):
    """Baseline: ask for each record with probability equal to the budget (Žliobaitė et al. 2014, "Random")."""

    name = "random"

    def _decide(self, proba: np.ndarray, rng: np.random.Generator) -> bool:
        return bool(rng.random() < self.budget)


class FixedUncertainty(BudgetManager):
    """Ask when the top posterior is below a fixed threshold θ (Žliobaitė et al. 2014, Alg. 2)."""

    name = "fixed_uncertainty"

    def __init__(self, budget: float, window: int = 100, threshold: float = 0.9) -> None:
        super().__init__(budget, window)
        self.threshold = float(threshold)

    def _decide(self, proba: np.ndarray, rng: np.random.Generator) -> bool:
        return self.within_budget() and float(proba.max()) < self.threshold


class VariableUncertainty(BudgetManager):
    """Ask when the top posterior is below θ, which shrinks by s after an ask and grows otherwise (Žliobaitė et al. 2014, Alg. 3)."""

    name = "variable_uncertainty"

    def __init__(self, budget: float, window: int = 100, step: float = 0.01) -> None:
        super().__init__(budget, window)
        self.step = float(step)
        self.threshold = 1.0

    def _variable(self, confidence: float) -> bool:
        if confidence < self.threshold:
            self.threshold *= 1.0 - self.step
            return True
        self.threshold *= 1.0 + self.step
        return False

    def _decide(self, proba: np.ndarray, rng: np.random.Generator) -> bool:
        return self.within_budget() and self._variable(float(proba.max()))


class RandomizedVariableUncertainty(VariableUncertainty):
    """Variable uncertainty with θ multiplied by η ~ N(1, δ) at each record (Žliobaitė et al. 2014, Alg. 4)."""

    name = "randomized_variable_uncertainty"

    def __init__(self, budget: float, window: int = 100, step: float = 0.01, delta: float = 1.0) -> None:
        super().__init__(budget, window, step)
        self.delta = float(delta)

    def _decide(self, proba: np.ndarray, rng: np.random.Generator) -> bool:
        if not self.within_budget():
            return False
        confidence = float(proba.max())
        randomized = self.threshold * float(rng.normal(1.0, self.delta))
        if confidence < randomized:
            self.threshold *= 1.0 - self.step
            return True
        self.threshold *= 1.0 + self.step
        return False


class Split(VariableUncertainty):
    """A share ν of records decided at random, the rest by variable uncertainty (Žliobaitė et al. 2014, Alg. 5)."""

    name = "split"

    def __init__(self, budget: float, window: int = 100, step: float = 0.01, random_share: float = 0.2) -> None:
        super().__init__(budget, window, step)
        self.random_share = float(random_share)

    def _decide(self, proba: np.ndarray, rng: np.random.Generator) -> bool:
        if not self.within_budget():
            return False
        if rng.random() < self.random_share:
            return bool(rng.random() < self.budget)
        return self._variable(float(proba.max()))


class BalancedIncrementalQuantileFilter(BudgetManager):
    """Ask when the uncertainty tops the (1-b) quantile of the last w, balanced by the labels owed (Kottke et al. 2015, BIQF)."""

    name = "biqf"

    def __init__(self, budget: float, window: int = 100, tolerance_window: int = 50) -> None:
        super().__init__(budget, window)
        self.tolerance_window = int(tolerance_window)
        self.history: deque[float] = deque(maxlen=self.window)
        self.n_seen = 0
        self.n_asked = 0

    def _decide(self, proba: np.ndarray, rng: np.random.Generator) -> bool:
        utility = 1.0 - float(proba.max())
        self.history.append(utility)
        self.n_seen += 1
        owed = self.budget * self.n_seen - self.n_asked
        values = np.fromiter(self.history, dtype=np.float64)
        spread = float(values.max() - values.min())
        threshold = float(np.quantile(values, 1.0 - self.budget)) - spread * owed / self.tolerance_window
        decision = utility >= threshold and owed > -self.tolerance_window * self.budget
        if decision:
            self.n_asked += 1
        return bool(decision)

    def describe(self) -> dict[str, Any]:
        """The manager's name and parameters, for the run's config."""
        return {**super().describe(), "tolerance_window": self.tolerance_window}


MANAGERS: dict[str, type[BudgetManager]] = {
    cls.name: cls
    for cls in (
        RandomSampling,
        FixedUncertainty,
        VariableUncertainty,
        RandomizedVariableUncertainty,
        Split,
        BalancedIncrementalQuantileFilter,
    )
}


def make_manager(name: str, budget: float, window: int = 100) -> BudgetManager:
    """The budget manager called ``name``; an unknown name is a ConfigError listing the known ones."""
    if name not in MANAGERS:
        raise ConfigError(f"unknown budget manager {name!r}; choose one of {', '.join(MANAGERS)}")
    return MANAGERS[name](budget, window)
