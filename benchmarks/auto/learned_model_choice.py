"""How the learned selector's model was chosen: left-out-dataset ranking quality of four model families.

    python benchmarks/auto/learned_model_choice.py --data benchmarks/auto/learned_data [--dataset NAME ...]

For each dataset D (of those given), a model is fitted on the other files and scored on D by the
mean within-loop Spearman correlation of predicted and measured gain (learned_train.py's check).
Run on 2026-12-02 on the first 8 files generated (sms_spam, ag_news, trec, customer_reviews,
letter, adult, covertype, shuttle), before the other 7 existed; docs/benchmarks.md gives the figures.
Unlike the shipped model, these fits weigh every row the same.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))
import learned_train as lt  # noqa: E402

FAMILIES = {
    "ridge alpha 10": lambda: make_pipeline(StandardScaler(), Ridge(alpha=10)),
    "ridge alpha 300": lambda: make_pipeline(StandardScaler(), Ridge(alpha=300)),
    "ridge alpha 3000": lambda: make_pipeline(StandardScaler(), Ridge(alpha=3000)),
    "degree-2 ridge alpha 300": lambda: make_pipeline(StandardScaler(), PolynomialFeatures(2), StandardScaler(), Ridge(alpha=300)),
    "MLP (32)": lambda: make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(32,), alpha=1e-2, max_iter=300,
                                                                     early_stopping=True, random_state=0)),
    "gradient boosting": lambda: HistGradientBoostingRegressor(max_iter=150, learning_rate=0.05, max_leaf_nodes=15,
                                                               min_samples_leaf=50, l2_regularization=1.0, random_state=0),
}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="benchmarks/auto/learned_data")
    ap.add_argument("--dataset", action="append")
    args = ap.parse_args()
    sets = lt.load(Path(args.data))
    names = sorted(args.dataset or sets)
    with threadpool_limits(1):
        for label, make in FAMILIES.items():
            r = {}
            for held in names:
                rest = [n for n in names if n != held]
                X = np.concatenate([sets[n]["X"] for n in rest])
                y = np.concatenate([sets[n]["y"] for n in rest])
                r[held] = round(lt.within_loop_spearman(make().fit(X, y), sets[held]), 3)
            print(f"{label}: mean {np.mean(list(r.values())):.3f}", r, flush=True)
    # The margin quantile alone (column 1), no model: what uncertainty sampling's ranking gives.
    margin_only = {n: within_groups(sets[n]["X"][:, 1], sets[n]) for n in names}
    print(f"q_margin alone: mean {np.mean(list(margin_only.values())):.3f}", margin_only)


def within_groups(pred: np.ndarray, d: dict[str, np.ndarray]) -> float:
    """Mean within-loop Spearman correlation of ``pred`` with the measured gain."""
    from scipy.stats import spearmanr

    return round(float(np.mean([spearmanr(pred[d["group"] == g], d["y"][d["group"] == g]).statistic
                                for g in np.unique(d["group"])])), 3)  # fmt: skip


if __name__ == "__main__":
    main()
