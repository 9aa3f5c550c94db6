"""Train the learned selector from ``learned_data.py``'s files: the built-in model and one per left-out dataset.

    python benchmarks/auto/learned_train.py --data benchmarks/auto/learned_data \
        [--out src/loopwise/strategies/models/learned_selector.json] [--lodo-dir benchmarks/auto/lodo_models]

Target: for each candidate, the gain of labelling it (validation log-loss decrease and accuracy
increase, both on train-split rows), each standardised within its (dataset, run, loop) group,
then averaged: the model learns which candidates of *this* loop help most, not how large gains
are on a dataset (that scale differs between datasets and is not what a ranking needs). Every
dataset weighs the same. The model is scikit-learn's Ridge on standardised features (alpha 3000:
chosen among 10, 300 and 3000, and against gradient boosting, an MLP and degree-2 ridge, on the
first 8 datasets' left-out correlation; see docs/benchmarks.md). ``--lodo-dir`` also writes
``without_<D>.json`` for each of the ten
datasets of the quality plan, trained on every file but D's, and an offline check: the mean
within-loop Spearman correlation of prediction and target on D (left out) and in sample.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr
from sklearn import __version__ as sklearn_version
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from loopwise.strategies._learned_features import FEATURE_NAMES

VERSION = "learned-1"
ALPHA = 3000.0
PLAN = ("sms_spam", "ag_news", "trec", "customer_reviews", "letter", "adult", "covertype", "shuttle", "mnist", "fashion_mnist")


def _z(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    out = np.zeros_like(values, dtype=np.float64)
    for g in np.unique(groups):
        rows = groups == g
        v = values[rows]
        sd = v.std()
        out[rows] = (v - v.mean()) / sd if sd > 0 else 0.0
    return np.clip(out, -3, 3)


def load(data: Path) -> dict[str, dict[str, np.ndarray]]:
    """Per dataset: features ``X``, target ``y`` and loop ``group``, from ``<data>/<dataset>.npz``."""
    out = {}
    for path in sorted(data.glob("*.npz")):
        d = np.load(path)
        if tuple(d["feature_names"]) != FEATURE_NAMES:
            raise SystemExit(f"{path}: features {list(d['feature_names'])} differ from {list(FEATURE_NAMES)}; regenerate it")
        group = d["run"] * 1000 + d["loop"]
        y = (_z(d["gain_loss"], group) + _z(d["gain_acc"], group)) / 2
        out[path.stem] = {"X": d["X"], "y": y, "group": group}
    if not out:
        raise SystemExit(f"no <dataset>.npz files in {data}; run benchmarks/auto/learned_data.py first")
    return out


def fit(sets: dict[str, dict[str, np.ndarray]], names: list[str]) -> Pipeline:
    """Ridge regression on standardised features over ``names``' rows, each dataset weighing the same."""
    X = np.concatenate([sets[n]["X"] for n in names])
    y = np.concatenate([sets[n]["y"] for n in names])
    w = np.concatenate([np.full(len(sets[n]["y"]), 1.0 / len(sets[n]["y"])) for n in names]) * len(y)
    model = make_pipeline(StandardScaler(), Ridge(alpha=ALPHA))
    return model.fit(X, y, ridge__sample_weight=w)


def within_loop_spearman(model: Any, d: dict[str, np.ndarray]) -> float:
    """Mean over loops of the Spearman correlation between predicted and measured (standardised) gain."""
    pred = model.predict(d["X"])
    rs = []
    for g in np.unique(d["group"]):
        rows = d["group"] == g
        if rows.sum() > 2 and d["y"][rows].std() > 0:
            rs.append(spearmanr(pred[rows], d["y"][rows]).statistic)
    return float(np.nanmean(rs)) if rs else float("nan")


def save(model: Pipeline, names: list[str], data: Path, path: Path) -> str:
    """Write the JSON model file; the version names the training files' digest, so a rebuilt model is traceable."""
    digest = hashlib.sha256(b"".join((data / f"{n}.npz").read_bytes() for n in names)).hexdigest()[:12]
    meta = {"version": f"{VERSION}-{digest}", "feature_names": list(FEATURE_NAMES), "trained_on": names,
            "sklearn": sklearn_version, "estimator": f"StandardScaler + Ridge(alpha={ALPHA:g})"}  # fmt: skip
    scaler, ridge = model.named_steps["standardscaler"], model.named_steps["ridge"]
    weights = {"mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist(), "coef": ridge.coef_.tolist(),
               "intercept": float(ridge.intercept_)}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "model": weights}, indent=1) + "\n", encoding="utf-8")
    return str(meta["version"])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="benchmarks/auto/learned_data")
    ap.add_argument("--out", default="src/loopwise/strategies/models/learned_selector.json")
    ap.add_argument("--lodo-dir", default=None)
    ap.add_argument("--report", default="benchmarks/results/learned_offline.json")
    args = ap.parse_args(argv)
    data = Path(args.data)
    sets = load(data)
    names = sorted(sets)
    model = fit(sets, names)
    report: dict[str, Any] = {"version": save(model, names, data, Path(args.out)), "in_sample": {}, "left_out": {}}
    for n in names:
        report["in_sample"][n] = round(within_loop_spearman(model, sets[n]), 4)
    if args.lodo_dir:
        for held in [n for n in PLAN if n in sets]:
            rest = [n for n in names if n != held]
            lodo = fit(sets, rest)
            save(lodo, rest, data, Path(args.lodo_dir) / f"without_{held}.json")
            report["left_out"][held] = round(within_loop_spearman(lodo, sets[held]), 4)
    Path(args.report).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
