"""Annotation-store writes wait for another process's SQLite writer instead of failing at once.

A second process (another server, or simulate on the same file) holds a write transaction open;
this one then calls a write of the annotation store. Each must wait for the lock and succeed:
a plain BEGIN that reads before it writes would fail at once with 'database is locked', since
SQLite does not wait on the upgrade from read to write. The other process lets go only once this
one has begun its transaction (an event handshake), so the outcome does not depend on timing.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from loopwise.storage import Store
from loopwise.storage._models import AnnotatorRow
from loopwise.storage._annotation_store import AnnotationRepository

HANDSHAKE_S = 60.0  # only a bound on a hung handshake; nothing is asserted about time


def _hold_write_lock(db: str, artifacts: str, holding: Event, release: Event) -> None:
    """In another process: insert a user in a write transaction, hold it until told, then commit."""
    store = Store.open(db, artifacts_dir=artifacts)
    try:
        repo = AnnotationRepository(store)
        with repo._write() as session:
            session.add(AnnotatorRow(name="holder", role="annotator", token_hash=None, created_at=datetime.now(UTC)))
            session.flush()  # the write lock is now held by this process
            holding.set()
            release.wait(HANDSHAKE_S)
    finally:
        store.close()


def _create_user(repo: AnnotationRepository) -> Callable[[], None]:
    # Its first statement is the INSERT, which SQLite lets wait even under a plain BEGIN; kept as a
    # guard. The two below read first, then write: those failed at once before the fix.
    def write() -> None:
        repo.create_user("second", "annotator")
        assert any(u.name == "second" for u in repo.list_users())
    return write


def _create_project(repo: AnnotationRepository) -> Callable[[], None]:
    def write() -> None:
        project = repo.create_project("locks", "tabular", ["a", "b"], "", {}, 0.0)
        assert repo.get_project(project.id).name == "locks"
    return write


def _set_password(repo: AnnotationRepository) -> Callable[[], None]:
    user_id = repo.create_user("pw", "annotator").id  # before the other process takes the lock

    def write() -> None:
        repo.set_password_hash(user_id, "hash")
        found = repo.user_with_password("pw")
        assert found is not None and found[1] == "hash"
    return write


@pytest.mark.parametrize("prepare", [_create_user, _create_project, _set_password], ids=lambda f: f.__name__[1:])
def test_a_write_waits_for_another_process_and_succeeds(
    tmp_path: Path, prepare: Callable[[AnnotationRepository], Callable[[], None]]
) -> None:
    db, artifacts = f"sqlite:///{tmp_path / 'lw.db'}", str(tmp_path / "artifacts")
    store = Store.open(db, artifacts_dir=artifacts)
    repo = AnnotationRepository(store)
    write = prepare(repo)
    context = multiprocessing.get_context("spawn")
    holding, release = context.Event(), context.Event()
    other = context.Process(target=_hold_write_lock, args=(db, artifacts, holding, release))
    other.start()
    try:
        assert holding.wait(HANDSHAKE_S), "the other process never took the write lock"

        def let_go_once_begun(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip().upper().startswith("BEGIN"):
                release.set()  # our transaction has begun: the other process may now commit

        event.listen(store._engine, "before_cursor_execute", let_go_once_begun)
        try:
            write()  # before the fix: OperationalError 'database is locked', at once
        finally:
            event.remove(store._engine, "before_cursor_execute", let_go_once_begun)
        release.set()
        other.join(HANDSHAKE_S)
        assert other.exitcode == 0
        with store._sessions() as session:
            names = set(session.scalars(select(AnnotatorRow.name)))
        assert "holder" in names  # the other process's write committed too
    finally:
        release.set()
        other.join(HANDSHAKE_S)
        if other.is_alive():
            other.kill()
        store.close()
