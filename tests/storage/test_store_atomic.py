"""record_loop is all or nothing: artifacts first, then one transaction for every row."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from loopwise.errors import DataError, NotFoundError, StoreError
from loopwise.storage import ProjectInfo, Store
from tests.storage.helpers import make_loop


def _artifact_files(store: Store) -> set[Path]:
    return {path for path in store.artifacts_dir.rglob("*") if path.is_file()}


def test_duplicate_loop_after_the_artifact_write_changes_no_row(
    store: Store, run_id: str
) -> None:
    store.record_loop(run_id, make_loop(0, ["r000", "r001"], model=b"weights-0"))
    before = store.counts()
    files_before = _artifact_files(store)
    again = make_loop(
        0,
        ["r002", "r003"],
        arrays={"proba": np.full((4, 3), 0.25, dtype=np.float32)},
        model=b"weights-other",
    )
    with pytest.raises(StoreError, match="expects loop 1 next, got loop_index 0"):
        store.record_loop(run_id, again)
    assert store.counts() == before
    # The arrays and model were written (content-addressed) and are simply not referenced.
    assert len(_artifact_files(store) - files_before) == 2
    assert [loop.selected_ids for loop in store.loops(run_id)] == [["r000", "r001"]]
    assert store.load_model(run_id, 0) == b"weights-0"


def test_failure_at_the_last_insert_rolls_back_the_loop_and_its_labels(
    store: Store, run_id: str
) -> None:
    # A model_versions row for (run, 0) already there makes the *last* insert of record_loop fail,
    # after its loop row and label rows went in within the same transaction.
    engine = create_engine(store.url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO model_versions (run_id, loop_index, artifact_hash, created_at) "
                    "VALUES (:run_id, 0, :hash, CURRENT_TIMESTAMP)"
                ),
                {"run_id": run_id, "hash": "0" * 64},
            )
    finally:
        engine.dispose()
    before = store.counts()
    with pytest.raises(StoreError, match="could not record loop 0.*nothing was written"):
        store.record_loop(run_id, make_loop(0, ["r000", "r001", "r002"], model=b"weights"))
    assert store.counts() == before
    assert store.loops(run_id) == []
    # The run is still usable: the next attempt at loop 0 is judged afresh.
    store.record_loop(run_id, make_loop(0, ["r000"]))
    assert store.get_run(run_id).n_loops == 1


@pytest.mark.parametrize(
    ("selected", "labels", "error", "match"),
    [
        (["r000", "r001"], ["cat", "zebra"], DataError, r"labels \['zebra'\] are not classes"),
        (["r000", "nope"], ["cat", "dog"], NotFoundError, "1 selected ids are not records"),
        (["r000", "r000"], ["cat", "dog"], DataError, "'r000' more than once"),
        (["r000", "r001"], ["cat"], DataError, "labels has 1 items but selected_ids has 2"),
    ],
)
def test_bad_loops_write_no_row(
    store: Store,
    run_id: str,
    selected: list[str],
    labels: list[str],
    error: type[Exception],
    match: str,
) -> None:
    before = store.counts()
    with pytest.raises(error, match=match):
        store.record_loop(run_id, make_loop(0, selected, labels))
    assert store.counts() == before


def test_concurrent_writers_of_the_same_loop_cannot_both_succeed(
    store: Store, store_url: str, tmp_path: Path, project: ProjectInfo, run_id: str
) -> None:
    stores = [Store.open(store_url, artifacts_dir=tmp_path / "artifacts") for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def write(writer: Store, selected: str) -> None:
        barrier.wait()
        try:
            writer.record_loop(run_id, make_loop(0, [selected]))
            outcomes.append("ok")
        except StoreError as exc:
            outcomes.append(str(exc))

    threads = [
        threading.Thread(target=write, args=(writer, f"r00{i}"))
        for i, writer in enumerate(stores)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for writer in stores:
        writer.close()
    assert outcomes.count("ok") == 1, outcomes
    assert "expects loop 1 next" in next(out for out in outcomes if out != "ok")
    assert len(store.loops(run_id)) == 1
