"""Weak supervision: keyword and regex rules on real SMS, their statistics, the label model against majority vote."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loopwise.errors import ConfigError
from loopwise.labeling import apply_lfs, keyword_lf, labeling_function, lf_summary, regex_lf, weak_labels, weak_sample_weights
from loopwise.labeling._weak import ABSTAIN

SMS = "/work/shared/datasets/sms_spam/data.csv.gz"


def test_rules_on_sms_label_spam_better_than_chance() -> None:
    frame = pd.read_csv(SMS, nrows=600)
    y = (frame["label"] == "spam").to_numpy().astype(np.int64)
    lfs = [keyword_lf("prize", ["free", "prize", "winner", "claim"], 1), regex_lf("money", r"£\d+|\d{5,}", 1), regex_lf("short", r"^.{0,40}$", 0)]
    L = apply_lfs(lfs, frame["text"].tolist())
    assert L.shape == (600, 3)
    summary = {row["name"]: row for row in lf_summary(L, lfs, y)}
    assert summary["money"]["coverage"] == pytest.approx((L[:, 1] >= 0).mean())
    assert summary["money"]["accuracy"] > 0.85 and summary["short"]["accuracy"] > 0.95
    weak = weak_labels(L, 2, "majority")
    assert 0.3 < weak.covered.mean() < 1.0
    assert (weak.labels[weak.covered] == y[weak.covered]).mean() > 0.9
    assert (weak.labels[~weak.covered] == ABSTAIN).all()


def test_label_model_beats_majority_where_one_rule_is_good_and_two_are_poor() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 3000)

    def noisy(accuracy: float) -> np.ndarray:
        return np.where(rng.random(len(y)) < accuracy, y, 1 - y)

    L = np.stack([noisy(0.95), noisy(0.6), noisy(0.6)], axis=1)
    mv = weak_labels(L, 2, "majority")
    lm = weak_labels(L, 2, "label_model", seed=0)
    assert (lm.labels == y).mean() > (mv.labels == y).mean() + 0.1


def test_statistics_count_overlap_and_conflict() -> None:
    lfs = [labeling_function(f"f{i}", lambda r: ABSTAIN) for i in range(3)]
    L = np.array([[0, 0, -1], [0, 1, -1], [-1, -1, 1], [-1, -1, -1]])
    rows = lf_summary(L, lfs)
    assert [r["coverage"] for r in rows] == [0.5, 0.5, 0.25]
    assert [r["overlap"] for r in rows] == [0.5, 0.5, 0.0]
    assert [r["conflict"] for r in rows] == [0.25, 0.25, 0.0]


def test_weak_labels_weigh_less_and_bad_rules_are_refused() -> None:
    assert weak_sample_weights(2, 3, 0.25).tolist() == [1.0, 1.0, 0.25, 0.25, 0.25]
    with pytest.raises(ConfigError, match="bad regular expression"):
        regex_lf("broken", "(", 1)
    with pytest.raises(ConfigError, match="unique"):
        apply_lfs([keyword_lf("a", ["x"], 1), keyword_lf("a", ["y"], 0)], ["x"])
    with pytest.raises(ConfigError, match="must be one of"):
        weak_labels(np.zeros((2, 1), dtype=np.int64), 2, "vote")
