"""The strategy registry: names to classes, and temporary registration that never leaks."""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.errors import ConfigError
from loopwise.strategies import MarginSampling, Strategy, StrategyInputs, available, make_strategy, register, registered


class _Flat(Strategy):
    """Scores every candidate the same; only its name matters here."""

    name = "test_registry_flat"

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        return np.zeros(len(inputs.candidates))


def test_registered_lasts_for_the_block_only() -> None:
    assert "test_registry_flat" not in available()
    with registered(_Flat):
        assert isinstance(make_strategy("test_registry_flat"), _Flat)
    assert "test_registry_flat" not in available()
    with pytest.raises(ConfigError, match="unknown strategy 'test_registry_flat'"):
        make_strategy("test_registry_flat")


def test_registered_unregisters_when_the_block_fails() -> None:
    with pytest.raises(RuntimeError, match="boom"), registered(_Flat):
        raise RuntimeError("boom")
    assert "test_registry_flat" not in available()


def test_registered_leaves_a_permanent_registration_in_place() -> None:
    with registered(MarginSampling):
        pass
    assert isinstance(make_strategy("margin"), MarginSampling)


def test_a_taken_name_is_refused() -> None:
    class Impostor(_Flat):
        name = "margin"

    with pytest.raises(ConfigError, match="'margin' is already registered by MarginSampling"):
        register(Impostor)
