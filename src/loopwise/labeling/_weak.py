"""Weak supervision: labelling functions over records, their statistics, and Snorkel's label model vs majority vote."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from loopwise.errors import ConfigError, DataError

ABSTAIN = -1
WEAK_SOURCE = "weak"
WEAK_METHODS = ("label_model", "majority")


def _snorkel() -> Any:
    try:
        import snorkel.labeling
    except ImportError as exc:  # pragma: no cover - the quality extra is installed in the suite
        raise ConfigError("weak supervision needs snorkel: pip install loopwise[quality]") from exc
    return snorkel.labeling


def labeling_function(name: str, fn: Callable[[Any], int]) -> Any:
    """A Snorkel ``LabelingFunction`` from a Python function ``fn(record) -> class index or -1`` (abstain)."""
    return _snorkel().LabelingFunction(name=name, f=fn)


def keyword_lf(name: str, keywords: Sequence[str], label: int) -> Any:
    """A rule: ``label`` when the record's text holds any of ``keywords`` (case-insensitive, whole words), else abstain."""
    if not keywords:
        raise ConfigError(f"keyword rule {name!r} needs at least one keyword")
    return regex_lf(name, r"\b(?:" + "|".join(re.escape(k) for k in keywords) + r")\b", label)


def regex_lf(name: str, pattern: str, label: int) -> Any:
    """A rule: ``label`` when the regular expression ``pattern`` matches the record's text (case-insensitive)."""
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(f"rule {name!r}: bad regular expression {pattern!r}: {exc}") from exc

    def rule(record: Any) -> int:
        return label if compiled.search(str(record)) else ABSTAIN

    return labeling_function(name, rule)


def apply_lfs(lfs: Sequence[Any], records: Sequence[Any]) -> np.ndarray:
    """The ``n_records x n_functions`` label matrix (``-1``: abstained), by Snorkel's LFApplier."""
    if not lfs:
        raise ConfigError("weak supervision needs at least one labelling function")
    names = [lf.name for lf in lfs]
    if len(set(names)) != len(names):
        raise ConfigError(f"labelling function names must be unique; got {names}")
    return np.asarray(_snorkel().LFApplier(list(lfs)).apply(list(records), progress_bar=False), dtype=np.int64)


def lf_summary(L: np.ndarray, lfs: Sequence[Any], y: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Per function: coverage, overlap and conflict fractions (Snorkel's LFAnalysis), and accuracy where ``y`` is given."""
    frame = _snorkel().LFAnalysis(L, list(lfs)).lf_summary(Y=None if y is None else np.asarray(y, dtype=np.int64))
    rows = []
    for name, row in frame.iterrows():
        entry = {"name": str(name), "coverage": float(row["Coverage"]), "overlap": float(row["Overlaps"]), "conflict": float(row["Conflicts"])}
        if y is not None:
            entry["accuracy"] = float(row["Emp. Acc."])
        rows.append(entry)
    return rows


@dataclass(frozen=True)
class WeakLabels:
    """Labels from rules: a class per covered record, its probability, the mask of records any rule covered."""

    method: str
    labels: np.ndarray
    confidence: np.ndarray
    covered: np.ndarray
    source: str = WEAK_SOURCE


def weak_labels(L: np.ndarray, n_classes: int, method: str = "label_model", seed: int = 0, n_epochs: int = 500) -> WeakLabels:
    """Combine the votes of ``L`` by Snorkel's LabelModel (Ratner et al. 2019) or its MajorityLabelVoter."""
    L = np.asarray(L, dtype=np.int64)
    if L.ndim != 2 or ((L < -1) | (L >= n_classes)).any():
        raise DataError(f"the label matrix must be records x functions with values in -1..{n_classes - 1}")
    from snorkel.labeling.model import LabelModel, MajorityLabelVoter

    if method == "label_model":
        model: Any = LabelModel(cardinality=n_classes, verbose=False)
        model.fit(L, n_epochs=n_epochs, seed=seed, progress_bar=False)
    elif method == "majority":
        model = MajorityLabelVoter(cardinality=n_classes)
    else:
        raise ConfigError(f"weak label method must be one of {', '.join(WEAK_METHODS)}; got {method!r}")
    proba = np.asarray(model.predict_proba(L), dtype=np.float64)
    covered = np.asarray((L >= 0).any(axis=1), dtype=bool)
    labels = np.where(covered, proba.argmax(axis=1), ABSTAIN).astype(np.int64)
    return WeakLabels(method, labels, np.where(covered, proba.max(axis=1), 0.0), covered)


def weak_sample_weights(n_human: int, n_weak: int, weak_weight: float = 0.3) -> np.ndarray:
    """Weights for training on human labels (1.0) followed by weak labels (``weak_weight``, lower: they are noisier).

    ``Loop.set_weak_labels`` trains on these; a weight of 0 gives the model without the weak labels.
    """
    if isinstance(weak_weight, bool) or not isinstance(weak_weight, (int, float)) or not 0.0 <= weak_weight <= 1.0:
        raise ConfigError(f"weak_weight must be a number in [0, 1]; got {weak_weight!r}")
    return np.concatenate([np.ones(n_human), np.full(n_weak, weak_weight)])
