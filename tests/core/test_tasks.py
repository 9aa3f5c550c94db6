"""Each task's label form: checked with the record at fault named, written for the store and read back as valid."""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.core.tasks import (
    CLASSIFICATION,
    MULTILABEL,
    REGRESSION,
    check_labels,
    check_task,
    empty_labels,
    hard_predictions,
    is_label_value,
    label_strings,
)
from loopwise.errors import ConfigError, DataError

NAMES = ["joy", "anger", "fear"]


def test_labels_are_checked_in_the_form_of_their_task_naming_the_record() -> None:
    ids = ["r1", "r2"]
    assert check_labels(CLASSIFICATION, [2, 0], 3, ids).tolist() == [2, 0]
    with pytest.raises(DataError, match=r"label out of range for record id 'r2': classes are 0..2"):
        check_labels(CLASSIFICATION, [2, 3], 3, ids)
    assert check_labels(MULTILABEL, [[1, 0, 1], [0, 0, 0]], 3, ids).dtype == np.int64
    with pytest.raises(DataError, match=r"label for record id 'r1' holds values other than 0 and 1"):
        check_labels(MULTILABEL, [[2, 0, 1], [0, 0, 0]], 3, ids)
    with pytest.raises(DataError, match=r"expected 2 x 3 \(0/1 per label\)"):
        check_labels(MULTILABEL, [1, 0], 3, ids)
    with pytest.raises(DataError, match=r"label for record id 'r2' is not a finite number"):
        check_labels(REGRESSION, [1.5, np.nan], 1, ids)
    with pytest.raises(ConfigError, match=r"task must be one of .*; got 'ranking'"):
        check_task("ranking")


def test_the_store_form_of_a_label_is_what_the_store_accepts_back() -> None:
    Y = np.array([[1, 0, 1], [0, 0, 0]])
    assert label_strings(MULTILABEL, Y, NAMES) == ["joy|fear", ""]
    assert all(is_label_value(MULTILABEL, v, NAMES) for v in label_strings(MULTILABEL, Y, NAMES))
    assert not is_label_value(MULTILABEL, "joy|hope", NAMES)
    values = label_strings(REGRESSION, np.array([452600.0, 0.125]), ["price"])
    assert [float(v) for v in values] == [452600.0, 0.125]  # repr keeps every bit
    assert is_label_value(REGRESSION, values[0], ["price"]) and not is_label_value(REGRESSION, "cheap", ["price"])
    assert label_strings(CLASSIFICATION, np.array([1]), NAMES) == ["anger"] and not is_label_value(CLASSIFICATION, "hope", NAMES)


def test_unlabelled_pools_and_hard_predictions_per_task() -> None:
    assert empty_labels(MULTILABEL, 2, 3).tolist() == [[-1] * 3] * 2
    assert np.isnan(empty_labels(REGRESSION, 2)).all()
    with pytest.raises(ConfigError, match="multilabel pool needs n_labels"):
        empty_labels(MULTILABEL, 2)
    assert hard_predictions(MULTILABEL, np.array([[0.7, 0.2, 0.5]])).tolist() == [[1, 0, 1]]
    assert hard_predictions(REGRESSION, np.array([[3.5, 0.1]])).tolist() == [3.5]
    assert hard_predictions(CLASSIFICATION, np.array([[0.2, 0.8]])).tolist() == [1]
