"""Simulated runs keep the learner's embeddings per model version in the store's artifact folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from loopwise.experiments import load_results, simulate
from loopwise.experiments._config import DataSpec
from loopwise.loop import FixedSchedule
from loopwise.storage import Store


def test_features_standing_in_for_embeddings_are_not_cached(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'emb.db'}")
    try:
        params = {"kcenter": {"use": "embeddings"}}
        (run_id,) = simulate(store, DataSpec("wine"), ["kcenter"], [0], FixedSchedule(10, 10, 30), strategy_params=params)
        # logreg has no representation of its own: it embeds records as their features, nothing to compute or keep.
        assert not (store.artifacts_dir / "embeddings").exists()
        (result,) = load_results(store, [run_id])
        assert np.isfinite(result.loops[-1].accuracy)
    finally:
        store.close()


def test_text_runs_get_raw_texts_and_cache_one_file_per_model_version(tmp_path: Path) -> None:
    data = tmp_path / "texts.csv"
    words = ["prize", "cash", "win", "lunch", "home", "dinner", "call", "free", "later", "movie"]
    rng = np.random.default_rng(0)
    rows = ["id,text,label"]
    for i in range(80):
        spam = i % 2
        picks = rng.choice(words[:3] + words[6:8] if spam else words[3:6] + words[8:], size=4)
        rows.append(f"m{i},{' '.join(picks)} message {i},{'spam' if spam else 'ham'}")
    data.write_text("\n".join(rows) + "\n")
    store = Store.open(f"sqlite:///{tmp_path / 'text.db'}")
    try:
        (run_id,) = simulate(
            store,
            DataSpec(str(data), text_column="text"),
            ["kcenter"],
            [0],
            FixedSchedule(10, 10, 30),
            learner="tfidf_svd",
            strategy_params={"kcenter": {"use": "embeddings"}},
        )
        files = sorted((store.artifacts_dir / "embeddings").rglob("*.npy"))
        # Loops 1 and 2 select on embeddings, each under the model version trained the loop before.
        assert len(files) == 2
        assert np.load(files[0]).shape[1] == 64
        (result,) = load_results(store, [run_id])
        assert [p.n_labelled for p in result.loops] == [10, 20, 30]
    finally:
        store.close()
