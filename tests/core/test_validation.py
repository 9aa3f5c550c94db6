from __future__ import annotations

import numpy as np
import pytest

from loopwise.core import Pool, check_features, check_proba
from loopwise.errors import DataError, LearnerError


def test_check_features_names_record_and_column() -> None:
    X = np.zeros((4, 3))
    X[2, 1] = np.inf
    with pytest.raises(DataError, match=r"infinite value in record id 'c', feature column 1"):
        check_features(X, ids=np.array(["a", "b", "c", "d"]))


def test_check_proba_rejects_wrong_shape_and_non_distributions() -> None:
    with pytest.raises(LearnerError, match=r"shape \(3, 2\); expected \(3, 4\)"):
        check_proba(np.full((3, 2), 0.5), 3, 4, who="MyModel")
    bad = np.full((3, 2), 0.5)
    bad[1] = [0.9, 0.9]
    with pytest.raises(LearnerError, match="row 1 is not a probability distribution"):
        check_proba(bad, 3, 2)
    ok = check_proba(np.full((3, 2), 0.5), 3, 2)
    assert ok.shape == (3, 2)


def test_pool_rejects_duplicate_ids_and_double_labelling() -> None:
    with pytest.raises(DataError, match="duplicate record ids in pool: \\['x'\\]"):
        Pool.new(np.array(["x", "y", "x"]), np.zeros((3, 1)))
    pool = Pool.new(np.array(["a", "b", "c"]), np.zeros((3, 1)))
    pool.label(np.array([2, 0]), np.array([1, 0]), loop_index=0)
    assert pool.labelled_positions.tolist() == [2, 0]
    assert pool.unlabelled_positions.tolist() == [1]
    with pytest.raises(DataError, match="already labelled"):
        pool.label(np.array([0]), np.array([1]), loop_index=1)
