"""The label audit: cleanlab finds injected flips on real data, second opinions fix them, the loop carries the counts."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from loopwise.core import Pool
from loopwise.errors import ConfigError
from loopwise.evaluation import evaluate
from loopwise.labeling import LabelAudit, NoisyOracle, out_of_fold_proba, rank_label_issues, run_audited_simulation
from loopwise.learners import as_learner
from loopwise.loop import FixedSchedule, Loop, run_simulation
from loopwise.strategies import make_strategy


def _learner() -> object:
    return as_learner(LogisticRegression(max_iter=300), n_classes=10)


def _flip(y: np.ndarray, rate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    flipped = rng.choice(len(y), size=int(rate * len(y)), replace=False)
    noisy = y.copy()
    noisy[flipped] = (y[flipped] + rng.integers(1, 10, len(flipped))) % 10
    return noisy, flipped


def test_cleanlab_ranking_finds_injected_flips_on_digits(digits_split: tuple) -> None:
    X, _, y, _ = digits_split
    X, y = X[:400], y[:400]
    noisy, flipped = _flip(y, 0.1, seed=0)
    proba = out_of_fold_proba(_learner(), X, noisy, n_folds=5, seed=0)
    assert proba is not None and proba.shape == (400, 10)
    flagged = rank_label_issues(noisy, proba)
    found = np.intersect1d(flagged, flipped)
    assert len(found) / len(flipped) >= 0.8
    assert len(found) / len(flagged) >= 0.5
    # Ranked most suspicious first: the top ten are all injected flips.
    assert np.isin(flagged[:10], flipped).all()


def test_out_of_fold_proba_gives_up_on_a_class_with_one_label(digits_split: tuple) -> None:
    X, _, y, _ = digits_split
    picked = np.concatenate([np.flatnonzero(y == 0)[:5], np.flatnonzero(y == 1)[:1]])
    assert out_of_fold_proba(_learner(), X[picked], y[picked]) is None


def _loop(X: np.ndarray, y_test: np.ndarray, X_test: np.ndarray, budget: int) -> Loop:
    return Loop(
        Pool.new(np.arange(len(X)).astype(str), X),
        _learner(),
        make_strategy("margin"),
        FixedSchedule(initial_size=30, batch=30, budget=budget),
        seed=0,
        X_test=X_test,
        y_test=y_test,
        evaluate=evaluate,
    )


def test_audited_simulation_fixes_labels_and_counts_what_it_spent(digits_split: tuple) -> None:
    X, X_test, y, y_test = digits_split
    X, y = X[:600], y[:600]
    plain = _loop(X, y_test[:200], X_test[:200], budget=150)
    run_simulation(plain, NoisyOracle(y, 10, 0.15, seed=1))
    audited = _loop(X, y_test[:200], X_test[:200], budget=150)
    oracle = NoisyOracle(y, 10, 0.15, seed=1)
    audit = LabelAudit(oracle)
    records = run_audited_simulation(audited, oracle, audit)

    def n_wrong(loop: Loop) -> int:
        labelled = loop.pool.labelled_positions
        return int((loop.pool.labels[labelled] != y[labelled]).sum())

    # Same first answers (same seed), but the audit corrected a good part of the wrong ones.
    assert n_wrong(audited) <= 0.6 * n_wrong(plain)
    extra = sum(r.extra["audit_extra_labels"] for r in records)
    assert extra > 0 and oracle.n_asked == audited.pool.n_labelled + extra
    assert sum(r.extra["audit_relabelled"] for r in records) == len(audit.relabels) > 0
    assert all(r.extra["audit_seconds"] >= 0 for r in records)
    # A record is checked at most once per run.
    checked = [p for _, p, _, _ in audit.relabels]
    assert len(checked) == len(set(checked))


def test_max_checks_caps_the_second_opinions(digits_split: tuple) -> None:
    X, X_test, y, y_test = digits_split
    oracle = NoisyOracle(y[:300], 10, 0.2, seed=2)
    records = run_audited_simulation(_loop(X[:300], y_test[:100], X_test[:100], 60), oracle, LabelAudit(oracle, max_checks=3))
    assert max(r.extra["audit_checked"] for r in records) == 3


def test_bad_audit_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="at least 2 folds"):
        LabelAudit(None, n_folds=1)
    with pytest.raises(ConfigError, match="max_checks"):
        LabelAudit(None, max_checks=-1)
