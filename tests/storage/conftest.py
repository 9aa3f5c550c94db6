"""Storage tests run on SQLite and on PostgreSQL (see tests/dbfixtures.py)."""

from __future__ import annotations

import pytest

from loopwise.storage import ProjectInfo, Store
from tests.dbfixtures import postgres_admin, store, store_url  # noqa: F401  (pytest fixtures)
from tests.storage.helpers import EXTERNAL_IDS, LABEL_NAMES


@pytest.fixture
def project(store: Store) -> ProjectInfo:
    """A project 'pets' with 30 records, r000 to r029, each with a small payload."""
    info = store.get_or_create_project("pets", "image", LABEL_NAMES, cost_per_label=2.5)
    store.add_records(info.id, EXTERNAL_IDS, [{"path": f"img/{i}.png"} for i in EXTERNAL_IDS])
    return info


@pytest.fixture
def run_id(store: Store, project: ProjectInfo) -> str:
    """A running run of the 'pets' project."""
    return store.create_run(project.id, {"strategy": "margin", "seed": 0}, name="margin seed 0")
