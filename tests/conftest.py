"""Shared fixtures: small real data (scikit-learn's bundled digits) for fast tests."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

pytest_plugins = ["tests.dbfixtures", "tests.typecheck"]

# In CI (CI=true) property tests draw the same examples every run, so a red CI is reproducible and
# never a new draw's luck; locally every run explores new examples (and hypothesis keeps failures).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Digits features scaled to [0, 1], split 75/25 stratified with a fixed seed."""
    data = load_digits()
    X = (data.data / 16.0).astype(np.float64)
    return tuple(train_test_split(X, data.target, test_size=0.25, stratify=data.target, random_state=0))  # type: ignore[return-value]
