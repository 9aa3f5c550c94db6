"""Labels are append-only: a new label for a record in a run supersedes the previous one."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from loopwise.errors import NotFoundError
from loopwise.storage import ProjectInfo, Store
from tests.storage.helpers import make_loop


def test_relabelling_appends_a_superseding_label(
    store: Store, project: ProjectInfo, run_id: str
) -> None:
    store.record_loop(run_id, make_loop(0, ["r000", "r001"], ["cat", "dog"]))
    store.record_loop(run_id, make_loop(1, ["r002", "r000"], ["bird", "dog"]))
    store.record_loop(
        run_id, make_loop(2, ["r000"], ["bird"], label_source="human", annotator="ana")
    )

    history = store.label_history(project.id, "r000")
    assert [label.value for label in history] == ["cat", "dog", "bird"]
    assert [label.supersedes_id for label in history] == [None, history[0].id, history[1].id]
    assert [label.source for label in history] == ["oracle", "oracle", "human"]
    assert [label.annotator for label in history] == [None, None, "ana"]
    assert {label.run_id for label in history} == {run_id}
    assert {label.external_id for label in history} == {"r000"}
    assert history[0].created_at <= history[1].created_at <= history[2].created_at

    untouched = store.label_history(project.id, "r001")
    assert [(label.value, label.supersedes_id) for label in untouched] == [("dog", None)]
    assert store.label_history(project.id, "r029") == []
    assert store.counts()["labels"] == 5


def test_chains_are_per_run(store: Store, project: ProjectInfo, run_id: str) -> None:
    other_run = store.create_run(project.id, {"seed": 1})
    store.record_loop(run_id, make_loop(0, ["r000"], ["cat"]))
    store.record_loop(other_run, make_loop(0, ["r000"], ["dog"]))
    first, second = store.label_history(project.id, "r000")
    assert (first.run_id, first.supersedes_id) == (run_id, None)
    assert (second.run_id, second.supersedes_id) == (other_run, None)


def test_label_history_of_an_unknown_record(store: Store, project: ProjectInfo) -> None:
    with pytest.raises(NotFoundError, match="no record with external id 'ghost'"):
        store.label_history(project.id, "ghost")


@pytest.mark.parametrize(
    "statement", ["UPDATE labels SET value = 'dog'", "DELETE FROM labels"]
)
def test_the_database_refuses_to_rewrite_labels(
    store: Store, project: ProjectInfo, run_id: str, statement: str
) -> None:
    store.record_loop(run_id, make_loop(0, ["r000"], ["cat"]))
    engine = create_engine(store.url)
    try:
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as connection:
                connection.execute(text(statement))
    finally:
        engine.dispose()
    assert [label.value for label in store.label_history(project.id, "r000")] == ["cat"]
