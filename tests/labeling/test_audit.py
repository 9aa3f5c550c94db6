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
    audit = LabelAudit(oracle, persist=1)  # check on the first flag: this test is about fixing, not caution
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


def _audited(X: np.ndarray, y: np.ndarray, split: tuple, budget: int = 150, **settings: object) -> tuple[Loop, LabelAudit, list]:
    _, X_test, _, y_test = split
    loop = _loop(X, y_test[:200], X_test[:200], budget=budget)
    oracle = NoisyOracle(y, 10, 0.15, seed=1)
    audit = LabelAudit(oracle, **settings)  # type: ignore[arg-type]
    return loop, audit, run_audited_simulation(loop, oracle, audit)


@pytest.fixture(scope="module")
def default_audit(digits_split: tuple) -> tuple[LabelAudit, list]:
    """One audited run with the default settings, shared by the tests that compare against it."""
    X, _, y, _ = digits_split
    _, audit, records = _audited(X[:600], y[:600], digits_split)
    return audit, records


def _found(audit: LabelAudit, y: np.ndarray) -> tuple[int, int, int]:
    """(wrong labels given the chance, of them checked, labels checked) from the audit's own log."""
    chance: set[int] = set()
    checked: set[int] = set()
    for _, positions, before, suspects in audit.log:
        chance |= set(positions[before != y[positions]].tolist())
        checked |= set(suspects.tolist())
    return len(chance), len(chance & checked), len(checked)


def test_the_audit_model_reads_the_features_it_is_given(digits_split: tuple, default_audit: tuple) -> None:
    X, _, y, _ = digits_split
    X, y = X[:600], y[:600]
    real = default_audit[0]  # features default to the pool's rows
    # Same loop, same answers; the audit's model sees shuffled rows, so its out-of-fold view is noise.
    shuffled = X[np.random.default_rng(0).permutation(len(X))]
    _, blind, _ = _audited(X, y, digits_split, features=shuffled)
    n_chance, n_found, n_checked = _found(real, y)
    _, blind_found, blind_checked = _found(blind, y)
    assert n_chance > 10 and n_found >= 2 * blind_found
    assert n_found / n_checked >= 0.8 and blind_found / max(blind_checked, 1) <= 0.4


def test_the_model_as_tie_breaker_saves_third_opinions(digits_split: tuple, default_audit: tuple) -> None:
    X, _, y, _ = digits_split
    X, y = X[:600], y[:600]
    _, m_audit, m_records = _audited(X, y, digits_split, resolve="majority")
    d_audit, d_records = default_audit  # resolve="model"

    def per_check(records: list) -> float:
        return sum(r.extra["audit_extra_labels"] for r in records) / sum(r.extra["audit_checked"] for r in records)

    # Majority asks a third label on every disagreement; with the model's vote most are settled by the second.
    assert per_check(d_records) < per_check(m_records) - 0.5
    assert 1.0 <= per_check(d_records) < 1.3
    for audit in (m_audit, d_audit):
        # What either rule changed, it mostly changed to the truth.
        assert len(audit.relabels) >= 8
        assert sum(new == y[position] for _, position, _, new in audit.relabels) >= 0.8 * len(audit.relabels)


def test_a_class_with_one_label_sits_out_while_the_rest_is_audited(digits_split: tuple) -> None:
    X, X_test, y, y_test = digits_split
    picked = np.concatenate([np.flatnonzero(y == 0)[:1], np.flatnonzero(y == 1)[:17], np.flatnonzero(y == 2)[:17]])
    noisy = y[picked].copy()
    noisy[[1, 18]] = [2, 1]  # one wrong 1 and one wrong 2
    loop = Loop(
        Pool.new(np.arange(len(picked)).astype(str), X[picked]),
        _learner(),
        make_strategy("margin"),
        FixedSchedule(initial_size=30, batch=5, budget=35),
        seed=0,
    )
    loop.record(noisy[:30], positions=np.arange(30))  # loop 0, labelled before there was a model
    query = loop.propose()
    audit = LabelAudit(None, self_confidence=1.0)
    audit.audit(loop, query, y[picked][query.positions])
    ((_, positions, _, suspects),) = audit.log
    # Class 0 has one label: it cannot be held out and learnt, so it is not ranked; everything else is.
    assert 0 not in positions and len(positions) == 34
    assert {1, 18} <= set(suspects.tolist())


def test_persist_checks_only_what_two_audits_in_a_row_doubt(digits_split: tuple, default_audit: tuple) -> None:
    X, _, y, _ = digits_split
    X, y = X[:600], y[:600]
    _, once, _ = _audited(X, y, digits_split, persist=1)
    twice = default_audit[0]  # persist=2
    _, once_found, once_checked = _found(once, y)
    _, twice_found, twice_checked = _found(twice, y)
    assert twice_checked < once_checked
    assert twice_found / twice_checked > once_found / once_checked
    with pytest.raises(ConfigError, match="persist"):
        LabelAudit(None, persist=0)
    with pytest.raises(ConfigError, match="resolve"):
        LabelAudit(None, resolve="vote")
