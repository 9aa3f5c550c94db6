"""`auto`: the random-control slice, the regime prior, the bandit's bookkeeping, replay on resume."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from loopwise.core import Pool
from loopwise.errors import ConfigError
from loopwise.evaluation import evaluate
from loopwise.labeling import SimulatedOracle
from loopwise.learners import as_learner
from loopwise.loop import FixedSchedule, Loop, run_simulation
from loopwise.strategies import AutoStrategy, History, StrategyInputs, TypiClust, make_strategy
from loopwise.strategies._auto import _every_unlabelled, confidence, slice_size
from loopwise.strategies._auto_arms import CoveredMargin


def _inputs(n_pool: int = 200, n_labelled: int = 10, k: int = 4, seed: int = 0) -> StrategyInputs:
    rng = np.random.default_rng(seed)
    candidates = np.arange(n_labelled, n_pool)
    history = History()
    history.add_labels(0, np.arange(n_labelled), rng.integers(0, k, n_labelled), "initial:RandomInit")
    pool_proba = rng.dirichlet(np.ones(k), size=n_pool).astype(np.float32)
    history.append(1, pool_proba)
    X = rng.normal(size=(n_pool, 5))
    return StrategyInputs(
        candidates=candidates,
        proba=pool_proba[candidates],
        features=X[candidates],
        labelled_features=X[:n_labelled],
        history=history,
    )


@pytest.mark.parametrize(
    ("batch", "fraction", "expected"),
    [(1, 0.05, 0), (2, 0.05, 1), (20, 0.05, 1), (50, 0.05, 2), (100, 0.05, 5), (20, 0.0, 0), (10, 0.5, 5)],
)
def test_slice_size(batch: int, fraction: float, expected: int) -> None:
    assert slice_size(batch, fraction) == expected


def test_coverage_phase_plays_typiclust_and_puts_a_random_slice_first() -> None:
    inputs = _inputs()  # 10 labels, 4 classes: under 3 a class, so the coverage arm
    sel = AutoStrategy().select(inputs, 20, np.random.default_rng(5))
    assert sel.info["arm"] == "typiclust"
    assert sel.info["n_slice"] == 1
    typi = TypiClust().select(inputs, 20, np.random.default_rng(5)).positions
    # The active part is TypiClust's batch, best first, less its last pick; the slice lies outside it.
    assert np.array_equal(sel.positions[1:], typi[:19])
    assert sel.positions[0] not in set(typi[:19].tolist())


def test_without_a_slice_the_batch_is_the_arm_batch() -> None:
    inputs = _inputs(n_labelled=40)  # 10 a class: past the coverage phase
    sel = AutoStrategy(slice_fraction=0.0, min_confidence=0.0).select(inputs, 20, np.random.default_rng(1))
    assert sel.info["n_slice"] == 0
    arm = sel.info["arm"]
    assert arm == "covered_margin"  # the highest prior while no reward is measured
    expected = CoveredMargin().select(inputs, 20, np.random.default_rng(1))
    assert np.array_equal(sel.positions, expected.positions)


def test_a_barely_confident_model_stays_in_the_coverage_phase() -> None:
    inputs = _inputs(n_labelled=40)  # Dirichlet(1) probabilities over 4 classes: confidence about 0.35
    assert AutoStrategy(min_confidence=0.9).select(inputs, 10, np.random.default_rng(0)).info["arm"] == "typiclust"
    assert AutoStrategy(min_confidence=0.0).select(inputs, 10, np.random.default_rng(0)).info["arm"] != "typiclust"
    assert confidence(np.full((3, 4), 0.25)) == pytest.approx(0.0)
    assert confidence(np.eye(4)) == pytest.approx(1.0)


def test_the_slice_is_uniform_over_the_rest() -> None:
    # Over many draws every non-active candidate lands in the slice about equally often.
    inputs = _inputs(n_pool=60, n_labelled=40)
    counts = np.zeros(len(inputs.candidates))
    for seed in range(600):
        sel = AutoStrategy(slice_fraction=0.5, arms=("margin",)).select(inputs, 4, np.random.default_rng(seed))
        counts[sel.positions[:2]] += 1
    active = AutoStrategy(slice_fraction=0.0, arms=("margin",)).select(inputs, 2, np.random.default_rng(0)).positions
    rest = np.setdiff1d(np.arange(len(inputs.candidates)), active)
    assert counts[active].sum() == 0
    share = counts[rest] / counts[rest].sum()
    assert share.min() > 0.2 / len(rest) and share.max() < 2.5 / len(rest)


def test_fallback_plays_random_when_active_arms_lose() -> None:
    played = [("density_margin", 0.01), ("random", 0.05), ("density_margin", 0.0)]
    arm, reason, _ = AutoStrategy(fallback=True)._choose(100, 4, played)
    assert arm == "random" and "fallback" in reason
    assert AutoStrategy._losing(played) is True
    assert AutoStrategy._losing([("margin", 0.1)]) is None
    assert AutoStrategy._losing([("margin", 0.1), ("random", 0.01)]) is False


@pytest.mark.parametrize(
    ("params", "needle"),
    [({"slice_fraction": 1.0}, "slice_fraction"), ({"arms": ("margin", "bald")}, "arms"), ({"ucb": -1}, "ucb")],
)
def test_bad_parameters_name_themselves(params: dict, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        make_strategy("auto", **params)


def _loop(digits_split, strategy: AutoStrategy, budget: int = 130) -> tuple[Loop, SimulatedOracle]:
    Xp, Xt, yp, yt = digits_split
    pool = Pool.new(np.array([f"r{i}" for i in range(len(Xp))]), Xp)
    loop = Loop(
        pool,
        as_learner(LogisticRegression(max_iter=300), 10),
        strategy,
        FixedSchedule(20, 20, budget),
        seed=3,
        X_test=Xt,
        y_test=yt,
        evaluate=evaluate,
    )
    return loop, SimulatedOracle(yp)


def test_every_loop_records_arm_reason_and_slice_estimate(digits_split) -> None:
    loop, oracle = _loop(digits_split, AutoStrategy())
    records = run_simulation(loop, oracle)
    infos = [r.extra["selection"] for r in records[1:]]
    assert [i["arm"] for i in infos][:1] == ["typiclust"]  # 20 labels, 10 classes: coverage first
    assert all(i["n_slice"] == 1 for i in infos)
    assert infos[-1]["rewards_measured"] >= 1
    assert infos[-1]["past_arms"] == [i["arm"] for i in infos[:-1]]
    # slice_accuracy at loop t is the previous loop's slice record, scored by the probabilities that loop selected with.
    prev = records[-2]
    first = int(prev.positions[0])
    expected = float(prev.pool_proba[first].argmax() == prev.labels[0])
    assert infos[-1]["slice_accuracy"] == expected and infos[-1]["slice_n"] == 1


def test_resumed_run_selects_what_an_uninterrupted_one_did(digits_split) -> None:
    loop, oracle = _loop(digits_split, AutoStrategy())
    records = run_simulation(loop, oracle)
    resumed, oracle2 = _loop(digits_split, AutoStrategy())
    resumed.restore(records[:4], model=None)
    rest = run_simulation(resumed, oracle2)
    assert [r.ids.tolist() for r in rest[4:]] == [r.ids.tolist() for r in records[4:]]
    assert [r.extra["selection"]["arm"] for r in rest[4:]] == [r.extra["selection"]["arm"] for r in records[4:]]
    for name in ("margin", "margin_ema", "flips", "forgets", "loops_seen", "y"):
        assert np.array_equal(getattr(resumed.history.metadata, name), getattr(loop.history.metadata, name)), name


def test_simulate_runs_auto_against_random_by_default(tmp_path) -> None:
    from typer.testing import CliRunner

    from loopwise.cli.main import app

    out = tmp_path / "out.json"
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        app,
        ["simulate", "--data", "wine", "--seeds", "1", "--initial", "9", "--batch", "9", "--budget", "36",
         "--db", f"sqlite:///{tmp_path / 'lw.db'}", "--json", str(out)],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    import json

    figures = json.loads(out.read_text())
    strategies = figures["summary"]["strategies"] if "summary" in figures else figures["strategies"]
    assert set(strategies) == {"auto", "random"}


@pytest.mark.parametrize("n", [1, 7, 100, 5000])
def test_the_strided_unlabelled_rows_are_those_a_full_mask_gives(n: int) -> None:
    rng = np.random.default_rng(n)
    for _ in range(10):
        taken = np.unique(rng.integers(0, n, rng.integers(0, n + 1)))
        free = np.ones(n, dtype=bool)
        free[taken] = False
        rows = np.flatnonzero(free)
        expected = rows[:: max(1, -(-len(rows) // 37))]
        assert np.array_equal(_every_unlabelled(n, taken, 37), expected)
