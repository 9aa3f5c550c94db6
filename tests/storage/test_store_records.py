"""Projects and records: get-or-create, idempotent bulk insert, validation."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, select

from loopwise.errors import ConfigError, DataError, NotFoundError
from loopwise.storage import ProjectInfo, Store
from loopwise.storage._models import RecordRow
from tests.storage.helpers import EXTERNAL_IDS, LABEL_NAMES


def test_get_or_create_project_returns_the_same_project(store: Store) -> None:
    first = store.get_or_create_project("pets", "image", LABEL_NAMES, cost_per_label=2.5)
    again = store.get_or_create_project("pets", "image", LABEL_NAMES, cost_per_label=2.5)
    assert again == first
    assert (first.name, first.task, first.label_names, first.cost_per_label) == (
        "pets",
        "image",
        LABEL_NAMES,
        2.5,
    )
    assert first.created_at.tzinfo is not None
    assert store.counts()["projects"] == 1


def test_existing_project_with_other_settings_is_an_error(store: Store) -> None:
    store.get_or_create_project("pets", "image", LABEL_NAMES)
    with pytest.raises(ConfigError, match="already exists"):
        store.get_or_create_project("pets", "image", ["cat", "dog"])
    with pytest.raises(ConfigError, match="already exists"):
        store.get_or_create_project("pets", "text", LABEL_NAMES)


@pytest.mark.parametrize(
    ("task", "label_names", "match"),
    [
        ("audio", ["a", "b"], "task must be one of"),
        ("text", [], "at least one class"),
        ("text", ["a", "a"], "more than once"),
        ("text", "ab", "list of class names"),
    ],
)
def test_bad_project_settings_are_refused(
    store: Store, task: str, label_names: list[str], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        store.get_or_create_project("p", task, label_names)
    assert store.counts()["projects"] == 0


def test_add_records_inserts_only_new_ids(store: Store, project: ProjectInfo) -> None:
    assert store.counts()["records"] == len(EXTERNAL_IDS)
    assert store.add_records(project.id, EXTERNAL_IDS) == 0
    assert store.add_records(project.id, ["r000", "new-1", "new-2"]) == 2
    assert store.counts()["records"] == len(EXTERNAL_IDS) + 2
    # The same external id in another project is another record.
    other = store.get_or_create_project("other", "text", ["a", "b"])
    assert store.add_records(other.id, ["r000"]) == 1


def test_payloads_are_stored_as_json_or_sql_null(store: Store) -> None:
    project = store.get_or_create_project("p", "tabular", ["a", "b"])
    payload = {"x": [1.5, 2], "note": "é \" ' ;", "nested": {"ok": True, "none": None}}
    store.add_records(project.id, ["with", "without"], [payload, None])
    engine = create_engine(store.url)
    try:
        with engine.connect() as connection:
            stored: dict[str, object] = dict(
                connection.execute(
                    select(RecordRow.external_id, RecordRow.payload).order_by(RecordRow.id)
                ).all()
            )
            n_null = connection.execute(
                select(RecordRow.id).where(RecordRow.payload.is_(None))
            ).all()
    finally:
        engine.dispose()
    assert stored == {"with": payload, "without": None}
    assert len(n_null) == 1  # SQL NULL, not the JSON text 'null'


def test_bad_records_are_refused_before_anything_is_written(store: Store) -> None:
    project = store.get_or_create_project("p", "text", ["a", "b"])
    with pytest.raises(DataError, match="'x' more than once"):
        store.add_records(project.id, ["x", "y", "x"])
    with pytest.raises(DataError, match=r"external_ids\[1\] must be a non-empty string"):
        store.add_records(project.id, ["x", 7])  # type: ignore[list-item]
    with pytest.raises(DataError, match="payloads has 1 items"):
        store.add_records(project.id, ["x", "y"], [{}])
    with pytest.raises(NotFoundError, match="no project with id 999"):
        store.add_records(999, ["x"])
    assert store.counts()["records"] == 0


def test_bulk_insert_of_75k_records_is_fast_and_idempotent(store: Store) -> None:
    project = store.get_or_create_project("big", "tabular", ["a", "b"])
    ids = [f"row-{i}" for i in range(75_000)]
    start = time.perf_counter()
    assert store.add_records(project.id, ids) == 75_000
    first = time.perf_counter() - start
    start = time.perf_counter()
    assert store.add_records(project.id, ids) == 0
    second = time.perf_counter() - start
    assert store.counts()["records"] == 75_000
    assert first < 8.0, f"75k records took {first:.1f} s"
    assert second < 8.0, f"re-adding 75k records took {second:.1f} s"
