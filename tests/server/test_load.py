"""Bounded correctness load tests on loopback: annotators against a real ``loopwise serve``.

They assert what must hold however fast or busy the machine is: no request fails, every
acknowledged label is in the store exactly once with its value and annotator, nothing is stored
that was not acknowledged, and no record is served to two annotators (one label per record). No
latency is asserted: latency depends on the machine, and the figures belong to the benchmark
(``loopwise bench server``, see docs/server.md, "Load").

    .venv/bin/python -m pytest tests/server/test_load.py -s    # prints the figures too

LOOPWISE_LOAD_SECONDS (default 20) and LOOPWISE_LOAD_ANNOTATORS (50) change the load.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from loopwise.bench.server_load import (
    LoadResult,
    ServerProcess,
    add_members,
    admin_client,
    check_store,
    dataset,
    make_annotators,
    make_project,
    run_load_in_subprocess,
    scratch_database,
)
from tests.dbfixtures import POSTGRES_URL_ENV, in_ci

pytestmark = pytest.mark.slow

SECONDS = float(os.environ.get("LOOPWISE_LOAD_SECONDS", "20"))
ANNOTATORS = int(os.environ.get("LOOPWISE_LOAD_ANNOTATORS", "50"))
THINK = (0.5, 1.5)


@pytest.fixture
def postgres_url() -> str:
    """The test PostgreSQL (its user may create databases); skipped without one, except under CI."""
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not url:
        message = f"{POSTGRES_URL_ENV} is not set; run `eval \"$(.ci/postgres.sh)\"` to start a PostgreSQL"
        if in_ci():
            pytest.fail(f"CI must run the PostgreSQL tests: {message}", pytrace=False)
        pytest.skip(message)
    return url


def _load(
    db_kind: str, workers: int, annotators: int, tmp_path: Path, postgres_url: str | None, seconds: float = SECONDS
) -> None:
    csv_bytes, truth = dataset(n_pool=3_000, n_test=300)
    with scratch_database(db_kind, tmp_path, postgres_url) as url:
        artifacts = tmp_path / "artifacts"
        # retrain_every 100: the background learner rewrites the queue order during the run.
        with ServerProcess(url, tmp_path, workers=workers, artifacts=artifacts) as server, admin_client(server.url) as admin:
            project = make_project(admin, "load", csv_bytes, retrain_every=100)
            tokens = add_members(admin, project["id"], make_annotators(admin, annotators))
            result = run_load_in_subprocess(server.url, project["id"], tokens, truth, seconds, THINK, tmp_path)
            loops = _wait_for_a_loop(admin, project["id"])
        stored = check_store(url, project["id"], result, artifacts)
    print(f"\n{db_kind}, {workers} process(es), {annotators} annotators, {seconds:.0f} s:\n{result.summary()}\nstore: {stored}")
    _assert_nothing_lost_or_shared(result, stored)
    # Background learning ran (with --workers N: in the parent only): one loop per retrain, in order.
    assert loops, "no loop was recorded"
    assert [loop["loop_index"] for loop in loops] == list(range(len(loops)))
    assert len({loop["n_labelled"] for loop in loops}) == len(loops), f"two loops on the same labels: {loops}"


def _wait_for_a_loop(admin: httpx.Client, project_id: int, timeout: float = 180.0) -> list[dict[str, Any]]:
    """The project's loops once there is one (retraining runs at low priority; a busy machine delays it)."""
    deadline = time.monotonic() + timeout
    while True:
        loops: list[dict[str, Any]] = admin.get(f"/api/projects/{project_id}/stats").raise_for_status().json()["loops"]
        if loops or time.monotonic() > deadline:
            return loops
        time.sleep(0.1)


def _assert_nothing_lost_or_shared(result: LoadResult, stored: dict[str, int]) -> None:
    assert not result.errors, result.errors[:5]
    assert result.acked, "no label was acknowledged"
    assert not result.double_served(), f"records served to more than one annotator: {list(result.double_served().items())[:5]}"
    assert stored == {"stored": len(result.acked), "lost": 0, "unacknowledged": 0, "doubled": 0}


def test_fifty_annotators_one_process_sqlite_lose_nothing_and_share_nothing(tmp_path: Path) -> None:
    _load("sqlite", 1, ANNOTATORS, tmp_path, None)


def test_two_server_processes_on_postgresql_lose_nothing_and_share_nothing(tmp_path: Path, postgres_url: str) -> None:
    """``serve --workers 2``: the queue's leases and labels are serialised in PostgreSQL across processes."""
    _load("postgresql", 2, ANNOTATORS, tmp_path, postgres_url, seconds=min(SECONDS, 15.0))


def test_two_server_processes_on_sqlite_lose_nothing_and_share_nothing(tmp_path: Path) -> None:
    """``serve --workers 2`` on one SQLite file: the write lock is taken first in every queue transaction."""
    _load("sqlite", 2, 30, tmp_path, None, seconds=min(SECONDS, 10.0))


def test_the_check_finds_a_lost_label(tmp_path: Path) -> None:
    """The store check can fail: a label the server acknowledged but the store lacks is counted as lost."""
    result = LoadResult(duration=1.0)
    result.acked[10**9] = (1, "a", "nobody")
    from loopwise.storage import AnnotationRepository, Store

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with Store.open(url) as store:
        project = AnnotationRepository(store).create_project("p", "tabular", ["a", "b"], "", {}, 0.0)
    assert check_store(url, project.id, result) == {"stored": 0, "lost": 1, "unacknowledged": 0, "doubled": 0}
