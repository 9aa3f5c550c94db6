"""Pool: labelling once per run, and corrections of labels already in."""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.core.pool import Pool
from loopwise.errors import DataError


def test_relabel_corrects_a_class_and_keeps_when_and_in_what_order_records_were_labelled() -> None:
    pool = Pool.new(np.array(["a", "b", "c"]), np.zeros((3, 2)))
    pool.label(np.array([2, 0]), np.array([1, 1]), loop_index=0)
    pool.relabel(np.array([0]), np.array([0]))
    assert pool.labels.tolist() == [0, -1, 1]
    assert pool.labelled_positions.tolist() == [2, 0] and pool.labelled_at.tolist() == [0, -1, 0]
    with pytest.raises(DataError, match=r"not labelled yet.*'b'"):
        pool.relabel(np.array([1]), np.array([0]))
    with pytest.raises(DataError, match="already labelled"):
        pool.label(np.array([0]), np.array([1]), loop_index=1)
