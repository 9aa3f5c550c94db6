"""Readers never break a writer, nor a writer a reader: real processes on SQLite and PostgreSQL.

Each round starts from a store that does not exist yet, so readers race the writer's first open
(creation and migration) as well as its loops. The outcome must not depend on timing: every read and
every write succeeds, whatever the interleaving, or the test fails.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, make_url

from loopwise.errors import StoreError
from loopwise.storage import Store
from tests.dbfixtures import POSTGRES_URL_ENV, in_ci
from tests.storage.helpers import EXTERNAL_IDS, LABEL_NAMES, make_loop

ROUNDS = 4
N_READERS = 2
N_LOOPS = 12
# A hung process is a failure, not a slow machine: these are far above what a round needs.
PROCESS_TIMEOUT_S = 240

# Reads the store in a tight loop, round by round, while the writer works on it: by opening it and
# querying it from Python (kind "store"), or as a user types `loopwise runs list` (kind "cli").
READER = r"""
import json, subprocess, sys, time
from pathlib import Path
urls, folder, name, kind = json.loads(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
if kind == "store":
    from loopwise.storage import Store

def read(i, url):
    if kind == "cli":
        out = subprocess.run([sys.executable, "-m", "loopwise.cli.main", "runs", "list", "--db", url],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"exit {out.returncode}: {out.stderr.strip()[-300:]}")
        return
    with Store.open(url, artifacts_dir=folder / f"artifacts-{i}") as store:
        for run in store.list_runs():
            store.loops(run.id)

(folder / f"ready-{name}").touch()
reads = failures = 0
errors = []
for i, url in enumerate(urls):
    while not (folder / f"go-{i}").exists():
        time.sleep(0.005)
    while True:
        done = (folder / f"done-{i}").exists()  # looked at first: one more full read after the end
        try:
            read(i, url)
            reads += 1
        except Exception as exc:
            failures += 1
            errors.append(f"round {i}: {type(exc).__name__}: {exc}")
        if done:
            break
print(json.dumps({"reads": reads, "failures": failures, "errors": errors[:5]}))
"""

# Writes through the Store API: creates the store, then one loop at a time, then finishes the run.
STORE_WRITER = r"""
import json, sys
from pathlib import Path
from loopwise.storage import Store
from tests.storage.helpers import EXTERNAL_IDS, LABEL_NAMES, make_loop
urls, folder, n_loops = json.loads(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
runs = []
for i, url in enumerate(urls):
    (folder / f"go-{i}").touch()
    with Store.open(url, artifacts_dir=folder / f"artifacts-{i}") as store:
        project = store.get_or_create_project("pets", "image", LABEL_NAMES)
        store.add_records(project.id, EXTERNAL_IDS)
        run_id = store.create_run(project.id, {"seed": i})
        for k in range(n_loops):
            store.record_loop(run_id, make_loop(k, EXTERNAL_IDS[2 * k : 2 * k + 2]))
        store.finish_run(run_id)
        runs.append(run_id)
    (folder / f"done-{i}").touch()
print(json.dumps(runs))
"""

# `loopwise simulate` itself where the store URL is enough (SQLite); the same call from Python
# elsewhere, since the command line cannot yet be given an artifact folder for PostgreSQL.
SIMULATE_WRITER = r"""
import json, subprocess, sys
from pathlib import Path
urls, folder, cli = json.loads(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "cli"
args = ["--data", "breast_cancer", "--strategy", "margin", "--seeds", "1",
        "--initial", "10", "--batch", "10", "--budget", "40"]
if not cli:
    from loopwise.experiments import simulate
    from loopwise.experiments._config import DataSpec
    from loopwise.loop import FixedSchedule
    from loopwise.storage import Store
for i, url in enumerate(urls):
    (folder / f"go-{i}").touch()
    if cli:
        out = subprocess.run([sys.executable, "-m", "loopwise.cli.main", "simulate", *args, "--db", url],
                             capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"simulate round {i} exited {out.returncode}: {out.stderr.strip()[-500:]}")
    else:
        with Store.open(url, artifacts_dir=folder / f"artifacts-{i}") as store:
            simulate(store, DataSpec(source="breast_cancer"), ["margin"], 1,
                     FixedSchedule(initial_size=10, batch=10, budget=40))
    (folder / f"done-{i}").touch()
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_urls(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_admin: Engine | None
) -> Iterator[Callable[[int], list[str]]]:
    """Make ``n`` URLs of stores that do not exist yet: SQLite files, or empty PostgreSQL schemas."""
    schemas: list[str] = []
    if request.param == "postgresql" and postgres_admin is None:
        message = f"{POSTGRES_URL_ENV} is not set; run `eval \"$(.ci/postgres.sh)\"` to start one"
        if in_ci():
            pytest.fail(f"CI must run the PostgreSQL tests: {message}", pytrace=False)
        pytest.skip(message)

    def make(n: int) -> list[str]:
        if request.param == "sqlite":
            return [f"sqlite:///{tmp_path / f'store-{i}.db'}" for i in range(n)]
        assert postgres_admin is not None
        urls = []
        for _ in range(n):
            schema = f"lw_test_{uuid.uuid4().hex[:12]}"
            with postgres_admin.begin() as connection:
                connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            schemas.append(schema)
            url = make_url(postgres_admin.url).update_query_dict({"options": f"-csearch_path={schema}"})
            urls.append(url.render_as_string(hide_password=False))
        return urls

    yield make
    if postgres_admin is not None:
        with postgres_admin.begin() as connection:
            connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            for schema in schemas:
                connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


def _python(script: str, *args: str) -> subprocess.Popen[str]:
    # The repository root on the path, so the scripts can import tests.storage.helpers.
    root = str(Path(__file__).resolve().parents[2])
    return subprocess.Popen(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {root!r})\n{script}", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _race(
    writer: str, writer_args: list[str], urls: list[str], folder: Path, cli_reader: bool
) -> tuple[str, list[dict]]:
    """Run the writer against the readers over ``urls``; return its stdout and each reader's tally."""
    folder.mkdir()
    payload = json.dumps(urls)
    names = [str(n) for n in range(N_READERS)] + (["cli"] if cli_reader else [])
    readers = [_python(READER, payload, str(folder), name, "cli" if name == "cli" else "store") for name in names]
    try:
        # The writer starts once every reader is up, so the readers meet its very first open.
        for reader in readers:
            assert reader.poll() is None, reader.communicate()[1]
        _wait_for(folder, [f"ready-{name}" for name in names], readers)
        write = _python(writer, payload, str(folder), *writer_args)
        out, err = write.communicate(timeout=PROCESS_TIMEOUT_S)
        assert write.returncode == 0, f"the writer failed while readers read: {err[-2000:]}"
        tallies = []
        for reader in readers:
            reader_out, reader_err = reader.communicate(timeout=PROCESS_TIMEOUT_S)
            assert reader.returncode == 0, reader_err[-2000:]
            tallies.append(json.loads(reader_out))
        return out, tallies
    finally:
        for reader in readers:
            if reader.poll() is None:
                reader.kill()
                reader.wait()


def _wait_for(folder: Path, names: list[str], readers: list[subprocess.Popen[str]]) -> None:
    while not all((folder / name).exists() for name in names):
        for reader in readers:
            if reader.poll() is not None:
                pytest.fail(f"a reader exited before the race began: {reader.communicate()[1][-2000:]}")
        threading.Event().wait(0.01)


def _assert_no_failures(tallies: list[dict], rounds: int = ROUNDS) -> None:
    print(f"readers: {[tally['reads'] for tally in tallies]} reads, {[tally['failures'] for tally in tallies]} failures")
    failures = [error for tally in tallies for error in tally["errors"]]
    assert sum(tally["failures"] for tally in tallies) == 0, failures
    # Each reader read every round at least once (the read after 'done' is always made).
    assert all(tally["reads"] >= rounds for tally in tallies), tallies


@pytest.mark.slow
def test_store_writes_and_readers_never_break_each_other(
    fresh_urls: Callable[[int], list[str]], tmp_path: Path
) -> None:
    urls = fresh_urls(ROUNDS)
    out, tallies = _race(STORE_WRITER, [str(N_LOOPS)], urls, tmp_path / "race", cli_reader=False)
    _assert_no_failures(tallies)
    run_ids = json.loads(out)
    for i, (url, run_id) in enumerate(zip(urls, run_ids, strict=True)):
        with Store.open(url, artifacts_dir=tmp_path / "race" / f"artifacts-{i}") as store:
            (run,) = store.list_runs()
            assert (run.id, run.status, run.n_loops) == (run_id, "finished", N_LOOPS)
            assert [loop.loop_index for loop in store.loops(run_id)] == list(range(N_LOOPS))
            counts = store.counts()
            assert (counts["loops"], counts["labels"]) == (N_LOOPS, 2 * N_LOOPS)


@pytest.mark.slow
def test_simulate_and_readers_never_break_each_other(
    fresh_urls: Callable[[int], list[str]], tmp_path: Path
) -> None:
    # One round: simulate costs seconds of imports and training; the store test above does the rounds.
    urls = fresh_urls(1)
    sqlite = urls[0].startswith("sqlite")
    mode = "cli" if sqlite else "python"
    _, tallies = _race(SIMULATE_WRITER, [mode], urls, tmp_path / "race", cli_reader=sqlite)
    _assert_no_failures(tallies, rounds=1)
    for i, url in enumerate(urls):
        with Store.open(url, artifacts_dir=tmp_path / "race" / f"artifacts-{i}") as store:
            (run,) = store.list_runs()
            # 10 + 3 * 10 = 40 labels: loops 0 to 3, each stored once.
            assert (run.status, run.n_loops) == ("finished", 4)
            assert store.counts()["labels"] == 40


# -- SQLite: what used to fail at once, every time, with 'database is locked' ---------------------


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another process's writer, as SQLite sees it: a connection holding the write lock."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN IMMEDIATE")
    return holder


def _while_locked(holder: sqlite3.Connection, call: Callable[[], object]) -> object:
    """Run ``call`` in a thread while ``holder`` keeps the lock, then let go; return its result."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except Exception as exc:  # reported below, with the call's own message
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    # Whether the call reaches the lock before or after this, it must succeed: it waits (busy
    # timeout, 30 s) where it used to fail.
    thread.join(timeout=0.5)
    holder.execute("COMMIT")
    holder.close()
    thread.join(timeout=PROCESS_TIMEOUT_S)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    return outcome["value"]


def test_opening_a_new_store_waits_for_another_writer(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    holder = _hold_write_lock(path)
    store = _while_locked(holder, lambda: Store.open(f"sqlite:///{path}"))
    assert isinstance(store, Store)
    with store:
        assert store.list_runs() == []


def test_opening_a_store_at_head_takes_no_lock(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store.open(f"sqlite:///{path}") as store:
        project = store.get_or_create_project("pets", "image", LABEL_NAMES)
        store.add_records(project.id, EXTERNAL_IDS)
        run_id = store.create_run(project.id, {"seed": 0})
        store.record_loop(run_id, make_loop(0, EXTERNAL_IDS[:2]))
    holder = _hold_write_lock(path)
    try:
        # No thread: were open or the reads to need the lock, they would wait 30 s and then fail.
        with Store.open(f"sqlite:///{path}") as reader:
            assert [run.id for run in reader.list_runs()] == [run_id]
            assert [loop.loop_index for loop in reader.loops(run_id)] == [0]
    finally:
        holder.rollback()
        holder.close()


@pytest.mark.parametrize("call", ["add_records", "create_run", "reopen_run"])
def test_writes_that_read_first_wait_for_another_writer(tmp_path: Path, call: str) -> None:
    path = tmp_path / "s.db"
    store = Store.open(f"sqlite:///{path}")
    try:
        project = store.get_or_create_project("pets", "image", LABEL_NAMES)
        store.add_records(project.id, EXTERNAL_IDS[:10])
        run_id = store.create_run(project.id, {"seed": 0})
        store.finish_run(run_id, status="failed")
        calls: dict[str, Callable[[], object]] = {
            "add_records": lambda: store.add_records(project.id, EXTERNAL_IDS),
            "create_run": lambda: store.create_run(project.id, {"seed": 1}),
            "reopen_run": lambda: store.reopen_run(run_id),
        }
        before = store.counts()
        _while_locked(_hold_write_lock(path), calls[call])
        after = store.counts()
        grown = {name for name in after if after[name] != before[name]}
        assert grown == {"add_records": {"records"}, "create_run": {"runs"}, "reopen_run": set()}[call]
        if call == "reopen_run":
            assert store.get_run(run_id).status == "running"
    finally:
        store.close()


# -- retried writes --------------------------------------------------------------------------------


def test_a_retried_record_loop_stores_nothing_twice(store: Store, run_id: str) -> None:
    """A writer that lost the answer to a commit retries it: same loop, same labels, stored once."""
    first = make_loop(0, EXTERNAL_IDS[:4])
    store.record_loop(run_id, first)
    after_first = store.counts()
    store.record_loop(run_id, first)
    assert store.counts() == after_first
    assert [loop.loop_index for loop in store.loops(run_id)] == [0]
    project_id = store.get_run(run_id).project_id
    assert [len(store.label_history(project_id, i)) for i in EXTERNAL_IDS[:4]] == [1, 1, 1, 1]
    # Loop 1 is stored once too, and a retry of loop 0 after it is refused, not ignored.
    second = make_loop(1, EXTERNAL_IDS[4:6])
    store.record_loop(run_id, second)
    store.record_loop(run_id, second)
    assert store.counts()["loops"] == 2 and store.counts()["labels"] == 6
    with pytest.raises(StoreError, match="expects loop 2 next, got loop_index 0"):
        store.record_loop(run_id, first)


@pytest.mark.parametrize(
    "change",
    [
        {"labels": ["dog", "dog"]},
        {"selected_ids": ["r010", "r011"]},
        {"metrics": {"accuracy": 0.99}},
        {"arrays": {"proba": np.zeros((30, 3), dtype=np.float32)}},
    ],
    ids=["labels", "selection", "metrics", "arrays"],
)
def test_a_different_loop_under_a_stored_index_is_refused(
    store: Store, run_id: str, change: dict[str, object]
) -> None:
    stored = make_loop(0, ["r000", "r001"], ["cat", "dog"])
    store.record_loop(run_id, stored)
    before = store.counts()
    with pytest.raises(StoreError, match="expects loop 1 next, got loop_index 0"):
        store.record_loop(run_id, dataclasses.replace(stored, **change))  # type: ignore[arg-type]
    assert store.counts() == before
