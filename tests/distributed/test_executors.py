"""Partitioned INFER + SELECT returns exactly the local selection, in process and on a local Ray instance."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from loopwise.core import Pool
from loopwise.distributed import LocalExecutor, RayExecutor, make_executor, select
from loopwise.errors import ConfigError
from loopwise.learners import as_learner
from loopwise.loop import FixedSchedule, Loop
from loopwise.strategies import StrategyInputs, make_strategy

N, D, K = 3000, 8, 4


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3, size=(K, D))
    y = rng.integers(0, K, N)
    X = (centres[y] + rng.normal(size=(N, D))).astype(np.float32)
    X[500:700] = X[0]  # duplicated rows: tied scores the generator has to break
    return X, y


def _fitted(X: np.ndarray, y: np.ndarray) -> Any:
    model = as_learner(LogisticRegression(max_iter=300), K)
    model.fit(X[:200], y[:200])
    return model


def _local(strategy: Any, model: Any, X: np.ndarray, candidates: np.ndarray, labelled: np.ndarray, k: int, seed: int) -> Any:
    """What the loop does in process (its INFER, then strategy.select)."""
    proba = model.predict_proba(X).astype(np.float32)
    inputs = StrategyInputs(
        candidates=candidates,
        proba=proba[candidates],
        features=X[candidates],
        labelled_features=X[labelled],
    )
    return strategy.select(inputs, k, np.random.default_rng(seed))


CASES = [("least_confidence", 40), ("margin", 40), ("entropy", 300), ("kcenter", 25), ("kcenter_normalized", 25)]


@pytest.mark.parametrize("n_partitions", [1, 3, 7])
@pytest.mark.parametrize(("name", "k"), CASES)
@pytest.mark.parametrize("n_labelled", [0, 150])
def test_local_partitions_equal_the_whole(name: str, k: int, n_partitions: int, n_labelled: int) -> None:
    X, y = _data()
    model = _fitted(X, y)
    labelled = np.random.default_rng(1).permutation(N)[:n_labelled]
    candidates = np.setdiff1d(np.arange(N), labelled)
    strategy = make_strategy(name)
    expected = _local(strategy, model, X, candidates, labelled, k, seed=5)
    executor = LocalExecutor(n_partitions)
    got, proba = executor.propose(strategy, model, X, candidates, labelled, k, np.random.default_rng(5))
    assert np.array_equal(got.positions, expected.positions)
    assert np.array_equal(got.scores, expected.scores)
    assert proba is not None and np.array_equal(proba, model.predict_proba(X).astype(np.float32))


def _small_pool() -> tuple[np.ndarray, np.ndarray]:
    """200 rows whose lengths vary widely, so unit-length and plain Euclidean k-center pick differently."""
    rng = np.random.default_rng(7)
    X = (rng.normal(size=(200, 6)) * rng.uniform(0.2, 5.0, size=(200, 1))).astype(np.float32)
    return X, rng.integers(0, K, 200)


@pytest.mark.parametrize("n_labelled", [0, 30])
def test_kcenter_normalized_keeps_its_geometry_on_partitions(n_labelled: int) -> None:
    # Issue 8, defect 12: on partitions kcenter_normalized silently ran plain Euclidean k-center.
    X, y = _small_pool()
    model = _fitted(X, y)
    labelled = np.random.default_rng(2).permutation(200)[:n_labelled]
    candidates = np.setdiff1d(np.arange(200), labelled)
    strategy = make_strategy("kcenter_normalized")
    expected = _local(strategy, model, X, candidates, labelled, 20, seed=4)
    plain = _local(make_strategy("kcenter"), model, X, candidates, labelled, 20, seed=4)
    assert not np.array_equal(expected.positions, plain.positions)  # the two geometries differ on this pool
    got, _ = LocalExecutor(3).propose(strategy, model, X, candidates, labelled, 20, np.random.default_rng(4))
    assert np.array_equal(got.positions, expected.positions)
    assert np.array_equal(got.scores, expected.scores)


def test_unsupported_strategies_and_executors_are_named() -> None:
    X, y = _data()
    with pytest.raises(ConfigError, match="cannot run on partitions"):
        select("badge", X, _fitted(X, y), 10, np.random.default_rng(0), executor="local")
    with pytest.raises(ConfigError, match="executor must be one of local, ray"):
        make_executor("spark")


def test_missing_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_ray(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(ConfigError, match=r"pip install loopwise\[ray\]"):
        RayExecutor()


@pytest.mark.parametrize(("name", "k"), CASES)
def test_ray_selection_equals_the_local_one(ray_instance: Any, name: str, k: int) -> None:
    X, y = _data(2)
    model = _fitted(X, y)
    for n_labelled in (0, 120):
        labelled = np.random.default_rng(3).permutation(N)[:n_labelled]
        candidates = np.setdiff1d(np.arange(N), labelled)
        strategy = make_strategy(name)
        expected = _local(strategy, model, X, candidates, labelled, k, seed=11)
        executor = RayExecutor(n_partitions=3)
        try:
            got, _ = executor.propose(strategy, model, X, candidates, labelled, k, np.random.default_rng(11))
        finally:
            executor.close()
        assert np.array_equal(got.positions, expected.positions), (name, n_labelled)
        assert np.array_equal(got.scores, expected.scores)


@pytest.mark.parametrize("name", ["margin", "kcenter", "kcenter_normalized"])
def test_a_loop_on_ray_makes_the_same_queries(ray_instance: Any, name: str) -> None:
    X, y = _data(4)

    def run(executor: Any) -> list[np.ndarray]:
        pool = Pool.new(np.arange(N), X)
        loop = Loop(pool, as_learner(LogisticRegression(max_iter=300), K), make_strategy(name), FixedSchedule(20, 15, 80), seed=3, executor=executor)
        queries = []
        while not loop.should_stop():
            query = loop.propose()
            queries.append(query.ids)
            loop.record(y[query.positions])
        return queries

    executor = RayExecutor(n_partitions=2)
    try:
        on_ray = run(executor)
    finally:
        executor.close()
    local = run(None)
    assert len(on_ray) == len(local) == 5
    for a, b in zip(on_ray, local):
        assert np.array_equal(a, b)


def test_a_memory_mapped_pool_is_opened_by_the_actors(ray_instance: Any, tmp_path: Any) -> None:
    X, y = _data(6)
    np.save(tmp_path / "pool.npy", X)
    mapped = np.load(tmp_path / "pool.npy", mmap_mode="r")
    model = _fitted(X, y)
    from loopwise.distributed._executor import FileRows, _placed

    assert isinstance(_placed(mapped, 10, 20, ray_instance), FileRows)
    assert not isinstance(_placed(mapped[5:], 10, 20, ray_instance), FileRows)  # a view: rows go through the store
    candidates = np.arange(N)
    for name, k in (("margin", 30), ("kcenter", 12)):
        strategy = make_strategy(name)
        expected = _local(strategy, model, X, candidates, np.empty(0, dtype=np.int64), k, seed=2)
        executor = RayExecutor(n_partitions=2)
        try:
            got = select(strategy, mapped, model, k, np.random.default_rng(2), executor=executor)
        finally:
            executor.close()
        assert np.array_equal(got.positions, expected.positions)
