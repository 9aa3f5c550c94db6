"""The learned selector: scale-free candidate features, the model file, the batch rule, its arm in ``auto``."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopwise.errors import ConfigError
from loopwise.strategies import (
    LEARNED_FEATURES,
    History,
    LearnedSelector,
    StrategyInputs,
    candidate_features,
    make_strategy,
    spread_top,
)
from loopwise.strategies._learned import BUILTIN_MODEL, load_model
from loopwise.strategies._learned_features import quantiles

ROOT = Path(__file__).resolve().parents[2]


def _inputs(seed: int = 0, scale: float = 1.0, n_pool: int = 300, k: int = 3) -> StrategyInputs:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_pool, 6)).astype(np.float32)
    labelled = np.arange(30)
    history = History()
    history.add_labels(0, labelled, rng.integers(0, k, 30))
    for t in (1, 2):
        history.append(t, rng.dirichlet(np.ones(k), size=n_pool).astype(np.float32))
    candidates = np.arange(30, n_pool)
    proba = rng.dirichlet(np.ones(k), size=len(candidates)).astype(np.float32)
    return StrategyInputs(candidates=candidates, proba=proba, features=scale * X[candidates],
                          labelled_features=scale * X[labelled], history=history)  # fmt: skip


def _model_file(tmp_path: Path, coef: dict[str, float], names: list[str] | None = None) -> str:
    width = len(LEARNED_FEATURES)
    weights = [coef.get(name, 0.0) for name in LEARNED_FEATURES]
    doc = {"meta": {"version": "test-1", "feature_names": names or list(LEARNED_FEATURES)},
           "model": {"mean": [0.0] * width, "scale": [1.0] * width, "coef": weights, "intercept": 0.0}}  # fmt: skip
    path = tmp_path / "model.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=200))
@settings(max_examples=50, deadline=None)
def test_quantiles_are_monotone_mid_ranks_in_the_unit_interval(values: list[float]) -> None:
    v = np.asarray(values, dtype=np.float32)
    q = quantiles(v)
    assert ((q >= 0) & (q <= 1)).all()
    order = np.argsort(v, kind="stable")
    assert (np.diff(q[order]) >= 0).all()
    assert np.allclose(quantiles(np.full(len(v), 3.0)), 0.5)


def test_features_do_not_change_when_the_feature_space_is_rescaled() -> None:
    a = candidate_features(_inputs(scale=1.0), 10, np.random.default_rng(0))
    b = candidate_features(_inputs(scale=250.0), 10, np.random.default_rng(0))
    assert a.features.shape == (270, len(LEARNED_FEATURES))
    assert np.array_equal(a.clusters, b.clusters)
    np.testing.assert_allclose(a.features, b.features, atol=1e-4)


def test_time_series_features_read_the_metadata_store() -> None:
    inputs = _inputs()
    meta = inputs.history.metadata
    view = candidate_features(inputs, 10, np.random.default_rng(0))
    col = {name: view.features[:, j] for j, name in enumerate(LEARNED_FEATURES)}
    c = inputs.candidates
    from loopwise.strategies import margin

    np.testing.assert_allclose(col["margin_trend"], margin(inputs.proba) - meta.margin[c], atol=1e-6)
    flipped = inputs.proba.argmax(axis=1) != meta.pred[c]
    np.testing.assert_allclose(col["flip_rate"], (meta.flips[c] + flipped) / meta.n_updates, atol=1e-6)
    np.testing.assert_allclose(col["pred_change"], flipped.mean(), atol=1e-6)
    counts = np.bincount(np.concatenate([loop.labels for loop in inputs.history.labels_by_loop]), minlength=3)
    share = counts / counts.sum()
    np.testing.assert_allclose(col["label_balance"], -(share * np.log(share)).sum() / np.log(3), atol=1e-6)


def test_the_model_ranks_candidates_by_its_coefficients(tmp_path: Path) -> None:
    inputs = _inputs()
    path = _model_file(tmp_path, {"margin": 1.0})
    sel = LearnedSelector(model=path, spread=False).select(inputs, 10, np.random.default_rng(0))
    from loopwise.strategies import margin

    expected = np.argsort(-margin(inputs.proba), kind="stable")[:10]
    assert set(sel.positions.tolist()) == set(expected.tolist())
    assert sel.info["model_version"].startswith("test-1+")


def test_spread_takes_each_clusters_best_before_any_second() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.1, 0.5, 0.4])
    clusters = np.array([0, 0, 0, 1, 2, 2])
    assert spread_top(scores, clusters, 4).tolist() == [0, 4, 3, 1]
    assert spread_top(scores, clusters, 6).tolist() == [0, 4, 3, 1, 5, 2]


def test_bad_model_files_are_refused_with_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        LearnedSelector(model=str(tmp_path / "missing.json"))
    stale = _model_file(tmp_path, {}, names=["margin"])
    with pytest.raises(ConfigError, match="retrain it"):
        LearnedSelector(model=stale)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="broken.json"):
        LearnedSelector(model=str(broken))


def test_the_builtin_model_is_small_versioned_and_left_out_datasets_are_named() -> None:
    assert BUILTIN_MODEL.stat().st_size < 1 << 20
    _, meta = load_model()
    assert meta["version"].startswith("learned-1-") and meta["trained_on"]
    for path in sorted((ROOT / "benchmarks/auto/lodo_models").glob("without_*.json")):
        held = path.stem.removeprefix("without_")
        assert held not in load_model(path)[1]["trained_on"]


def test_auto_learned_plays_the_learned_arm_after_coverage_and_records_its_version() -> None:
    sel = make_strategy("auto_learned").select(_inputs(), 20, np.random.default_rng(0))
    assert sel.info["arm"] == "learned"
    assert sel.info["model_version"] == LearnedSelector().model_version


def test_the_generator_reads_train_rows_only() -> None:
    spec = importlib.util.spec_from_file_location("learned_data", ROOT / "benchmarks/auto/learned_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from loopwise.data import load_dataset, split_pool_test

    dataset = load_dataset("banknote")
    _, test = split_pool_test(dataset, test_size=0.25, seed=0, max_pool=2000, max_test=2000)
    pool, val = module.train_positions(dataset)
    assert not set(pool) & set(test) and not set(val) & set(test) and not set(pool) & set(val)
