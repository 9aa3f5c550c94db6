"""loopwise: active learning loops that are recorded, resumable and reported.

The core API is importable from here (``from loopwise import Loop, make_strategy``);
each name is loaded on first use (PEP 562), so ``import loopwise`` stays cheap and
``loopwise serve`` starts without importing the engine's numerical stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loopwise.core import LoopRecord, Pool, Query, Selection
    from loopwise.errors import ConfigError, DataError, LoopwiseError
    from loopwise.evaluation import evaluate
    from loopwise.experiments import RunConfig, prepare_data, resume_run, simulate
    from loopwise.experiments._config import DataSpec
    from loopwise.labeling import CallbackOracle, SimulatedOracle
    from loopwise.learners import CallbackLearner, as_learner, make_estimator
    from loopwise.loop import FixedSchedule, GeometricSchedule, Loop, parse_initializer, run_simulation
    from loopwise.storage import Store
    from loopwise.strategies import Capabilities, Strategy, StrategyInputs, make_strategy
    from loopwise.strategies import available as available_strategies
    from loopwise.strategies import register as register_strategy

# Public name -> (module, attribute); ``available_strategies`` and ``register_strategy`` are the registry's.
_EXPORTS: dict[str, tuple[str, str]] = {
    "Pool": ("loopwise.core", "Pool"),
    "Query": ("loopwise.core", "Query"),
    "LoopRecord": ("loopwise.core", "LoopRecord"),
    "Selection": ("loopwise.core", "Selection"),
    "Strategy": ("loopwise.strategies", "Strategy"),
    "StrategyInputs": ("loopwise.strategies", "StrategyInputs"),
    "Capabilities": ("loopwise.strategies", "Capabilities"),
    "make_strategy": ("loopwise.strategies", "make_strategy"),
    "available_strategies": ("loopwise.strategies", "available"),
    "register_strategy": ("loopwise.strategies", "register"),
    "as_learner": ("loopwise.learners", "as_learner"),
    "make_estimator": ("loopwise.learners", "make_estimator"),
    "CallbackLearner": ("loopwise.learners", "CallbackLearner"),
    "Loop": ("loopwise.loop", "Loop"),
    "FixedSchedule": ("loopwise.loop", "FixedSchedule"),
    "GeometricSchedule": ("loopwise.loop", "GeometricSchedule"),
    "parse_initializer": ("loopwise.loop", "parse_initializer"),
    "run_simulation": ("loopwise.loop", "run_simulation"),
    "SimulatedOracle": ("loopwise.labeling", "SimulatedOracle"),
    "CallbackOracle": ("loopwise.labeling", "CallbackOracle"),
    "evaluate": ("loopwise.evaluation", "evaluate"),
    "Store": ("loopwise.storage", "Store"),
    "DataSpec": ("loopwise.experiments._config", "DataSpec"),
    "RunConfig": ("loopwise.experiments", "RunConfig"),
    "prepare_data": ("loopwise.experiments", "prepare_data"),
    "simulate": ("loopwise.experiments", "simulate"),
    "resume_run": ("loopwise.experiments", "resume_run"),
    "LoopwiseError": ("loopwise.errors", "LoopwiseError"),
    "ConfigError": ("loopwise.errors", "ConfigError"),
    "DataError": ("loopwise.errors", "DataError"),
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    """Load a public name on first use (and ``__version__`` from the installed package's metadata)."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value: Any = version("loopwise")
        except PackageNotFoundError:  # a source tree on PYTHONPATH that was never installed
            value = "0+unknown"
    elif name in _EXPORTS:
        module, attr = _EXPORTS[name]
        value = getattr(importlib.import_module(module), attr)
    else:
        raise AttributeError(f"module 'loopwise' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
