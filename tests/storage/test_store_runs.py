"""Runs and loops: creation, lookup, loop order, finishing, JSON values."""

from __future__ import annotations

import re

import numpy as np
import pytest

from loopwise.errors import ConfigError, DataError, LoopwiseError, NotFoundError, StoreError
from loopwise.storage import ProjectInfo, Store
from tests.storage.helpers import LABEL_NAMES, make_loop


def test_create_and_get_run(store: Store, project: ProjectInfo, run_id: str) -> None:
    assert re.fullmatch(r"[0-9a-f]{12}", run_id)
    run = store.get_run(run_id)
    assert (run.id, run.project_id, run.project_name, run.name, run.status) == (
        run_id,
        project.id,
        "pets",
        "margin seed 0",
        "running",
    )
    assert run.config == {"strategy": "margin", "seed": 0}
    assert run.label_names == LABEL_NAMES
    assert run.n_loops == 0
    assert run.finished_at is None
    assert run.created_at.tzinfo is not None


def test_get_run_of_an_unknown_id_says_how_to_list_runs(store: Store) -> None:
    with pytest.raises(NotFoundError) as raised:
        store.get_run("deadbeef0000")
    message = str(raised.value)
    assert "'deadbeef0000'" in message
    assert "loopwise runs list" in message
    # Callers may catch the library's base error or the built-in one.
    assert isinstance(raised.value, LoopwiseError)
    assert isinstance(raised.value, LookupError)


def test_unknown_run_everywhere(store: Store, project: ProjectInfo) -> None:
    for call in (
        lambda: store.loops("nope"),
        lambda: store.load_model("nope", 0),
        lambda: store.finish_run("nope"),
        lambda: store.record_loop("nope", make_loop(0, ["r000"])),
    ):
        with pytest.raises(NotFoundError, match="loopwise runs list"):
            call()
    with pytest.raises(NotFoundError, match="no project with id 999"):
        store.create_run(999, {})


def test_list_runs_oldest_first_and_by_project(store: Store, project: ProjectInfo) -> None:
    other = store.get_or_create_project("other", "text", ["a", "b"])
    first = store.create_run(project.id, {"seed": 0})
    second = store.create_run(other.id, {"seed": 1})
    third = store.create_run(project.id, {"seed": 2})
    assert [run.id for run in store.list_runs()] == [first, second, third]
    assert [run.id for run in store.list_runs(project.id)] == [first, third]
    assert [run.id for run in store.list_runs(other.id)] == [second]
    assert store.list_runs(12345) == []


def test_loops_are_recorded_in_order_and_read_back(
    store: Store, project: ProjectInfo, run_id: str
) -> None:
    store.record_loop(run_id, make_loop(0, ["r000", "r001", "r002"]))
    store.record_loop(run_id, make_loop(1, ["r010", "r005"], strategy="entropy"))
    loops = store.loops(run_id)
    assert [loop.loop_index for loop in loops] == [0, 1]
    assert loops[1].selected_ids == ["r010", "r005"]  # selection order, not sorted
    assert loops[1].strategy == "entropy"
    assert loops[1].n_labelled == 20
    assert loops[1].metrics == {"accuracy": pytest.approx(0.6), "per_class_f1": {"cat": 0.4}}
    assert loops[1].timings == {"infer": 0.01, "select": 0.002, "train": 0.3}
    assert loops[1].label_cost == 5.0
    assert store.get_run(run_id).n_loops == 2


@pytest.mark.parametrize(("first_index", "expected"), [(1, 0), (5, 0)])
def test_first_loop_must_be_zero(
    store: Store, run_id: str, first_index: int, expected: int
) -> None:
    with pytest.raises(StoreError, match=f"expects loop {expected} next, got loop_index {first_index}"):
        store.record_loop(run_id, make_loop(first_index, ["r000"]))
    assert store.counts()["loops"] == 0


def test_loop_index_must_follow_the_previous_one(store: Store, run_id: str) -> None:
    store.record_loop(run_id, make_loop(0, ["r000"]))
    with pytest.raises(StoreError, match="expects loop 1 next, got loop_index 2"):
        store.record_loop(run_id, make_loop(2, ["r001"]))
    with pytest.raises(StoreError, match="expects loop 1 next, got loop_index 0"):
        store.record_loop(run_id, make_loop(0, ["r001"]))
    store.record_loop(run_id, make_loop(1, ["r001"]))
    assert [loop.loop_index for loop in store.loops(run_id)] == [0, 1]


def test_a_finished_run_takes_no_more_loops(store: Store, run_id: str) -> None:
    store.record_loop(run_id, make_loop(0, ["r000"]))
    store.finish_run(run_id)
    run = store.get_run(run_id)
    assert run.status == "finished"
    assert run.finished_at is not None and run.finished_at >= run.created_at
    before = store.counts()
    with pytest.raises(StoreError, match="is finished"):
        store.record_loop(run_id, make_loop(1, ["r001"]))
    with pytest.raises(StoreError, match="is finished"):
        store.finish_run(run_id, "failed")
    assert store.counts() == before


def test_a_run_can_fail(store: Store, run_id: str) -> None:
    store.finish_run(run_id, status="failed")
    assert store.get_run(run_id).status == "failed"
    with pytest.raises(ConfigError, match="status must be one of finished, failed"):
        store.finish_run(run_id, status="done")


def test_numpy_values_and_nan_become_plain_json(store: Store, run_id: str) -> None:
    metrics = {
        "accuracy": np.float32(0.75),
        "n_test": np.int64(400),
        "confusion": np.array([[3, 1], [0, 4]]),
        "ece": float("nan"),
        "ok": np.bool_(True),
        "curve": (0.5, float("inf")),
    }
    store.record_loop(run_id, make_loop(0, ["r000"], metrics=metrics))
    stored = store.loops(run_id)[0].metrics
    assert stored == {
        "accuracy": 0.75,
        "n_test": 400,
        "confusion": [[3, 1], [0, 4]],
        "ece": None,
        "ok": True,
        "curve": [0.5, None],
    }
    assert type(stored["n_test"]) is int
    config = {"seed": np.int64(3), "sizes": np.array([10, 20])}
    other = store.create_run(store.get_run(run_id).project_id, config)
    assert store.get_run(other).config == {"seed": 3, "sizes": [10, 20]}


def test_values_json_cannot_hold_are_refused(store: Store, run_id: str) -> None:
    with pytest.raises(DataError, match=r"metrics\['f1'\]: keys must be strings.*got 1 \(int\)"):
        store.record_loop(run_id, make_loop(0, ["r000"], metrics={"f1": {1: 0.5}}))
    with pytest.raises(DataError, match=r"config\['learner'\]: cannot store a object"):
        store.create_run(store.get_run(run_id).project_id, {"learner": object()})
    assert store.counts()["loops"] == 0
