"""The package's front door: ``loopwise.__version__`` and every name in ``loopwise.__all__``."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import pytest

import loopwise


def test_version_is_the_installed_package_version() -> None:
    assert loopwise.__version__ == version("loopwise")
    assert loopwise.__version__.split(".")[0].isdigit()


@pytest.mark.parametrize("name", loopwise.__all__)
def test_each_public_name_imports(name: str) -> None:
    assert getattr(loopwise, name) is not None
    assert name in dir(loopwise)


def test_the_readme_example_imports_from_the_top() -> None:
    from loopwise import FixedSchedule, Loop, Pool, SimulatedOracle, as_learner, evaluate, make_strategy, run_simulation

    from loopwise.loop import Loop as LoopFromLoop
    from loopwise.strategies import make_strategy as make_from_strategies

    assert Loop is LoopFromLoop and make_strategy is make_from_strategies
    assert all(callable(x) for x in (FixedSchedule, Pool, SimulatedOracle, as_learner, evaluate, run_simulation))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'loopwise' has no attribute 'nope'"):
        loopwise.nope  # noqa: B018


def test_import_loopwise_loads_nothing_else() -> None:
    # `loopwise serve` imports the package first; the engine must not come with it.
    code = "import sys, loopwise; print(sorted(m for m in sys.modules if m.startswith(('loopwise.', 'numpy', 'sklearn'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
