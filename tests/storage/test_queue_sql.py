"""The queue's lease and label statements keep their rules on SQLite and PostgreSQL.

On PostgreSQL a lease is one statement and a label's writes one statement (storage/_queue_pg.py);
on SQLite each step is its own statement. These tests drive AnnotationRepository directly and check
the same outcomes on both: a lease is served again to its holder and to nobody else (k = 1), at
most k annotators hold or label a record, a lapsed lease frees the record, a label budget counts
leases, and concurrent annotators (threads, any interleaving) are never served one record twice.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from loopwise.storage import Store
from loopwise.storage._models import AssignmentRow
from loopwise.storage._annotation_store import AnnotationProjectInfo, AnnotationRepository, ConflictError, UserInfo

LEASE_S = 600.0


def _setup(store: Store, n_records: int, n_users: int) -> tuple[AnnotationRepository, AnnotationProjectInfo, list[UserInfo]]:
    repo = AnnotationRepository(store)
    project = repo.create_project("queue", "tabular", ["a", "b"], "", {}, 0.0)
    ids = [f"r{i:03d}" for i in range(n_records)]
    repo.add_records(project.id, ids, [{"x": i} for i in range(n_records)])
    users = [repo.create_user(f"u{i}", "annotator") for i in range(n_users)]
    return repo, project, users


def _assignments(store: Store, user_id: int) -> int:
    with store._sessions() as session:
        return int(session.scalar(select(func.count()).where(AssignmentRow.annotator_id == user_id)) or 0)


def test_a_lease_is_served_again_to_its_holder_and_to_nobody_else(store: Store) -> None:
    repo, project, (u0, u1) = _setup(store, 5, 2)
    first = repo.lease_next(project.id, u0.id, 1, LEASE_S)
    assert first is not None and first.payload == {"x": int(first.external_id[1:])}
    again = repo.lease_next(project.id, u0.id, 1, LEASE_S)
    assert again is not None and again.record_id == first.record_id
    assert again.lease_expires_at is not None and first.lease_expires_at is not None
    assert again.lease_expires_at >= first.lease_expires_at  # extended, not a second lease
    assert _assignments(store, u0.id) == 1
    other = repo.lease_next(project.id, u1.id, 1, LEASE_S)
    assert other is not None and other.record_id != first.record_id
    with pytest.raises(ConflictError, match="held by another annotator"):
        repo.submit_label(project, first.record_id, u1, "a", 1)


def test_a_label_is_stored_once_and_the_next_lease_moves_on(store: Store) -> None:
    repo, project, (u0,) = _setup(store, 3, 1)
    lease = repo.lease_next(project.id, u0.id, 1, LEASE_S)
    assert lease is not None
    ack = repo.submit_label(project, lease.record_id, u0, "b", 1)
    assert (ack.record_id, ack.value, ack.annotator) == (lease.record_id, "b", "u0")
    assert _assignments(store, u0.id) == 0  # the label released the lease
    labels = repo.current_labels(project.id)
    assert [(c.record_id, c.value) for c in labels] == [(lease.record_id, "b")]
    assert repo.get_record(project.id, lease.record_id).state == "done"
    with pytest.raises(ConflictError, match="already labelled"):
        repo.submit_label(project, lease.record_id, u0, "a", 1)
    nxt = repo.lease_next(project.id, u0.id, 1, LEASE_S)
    assert nxt is not None and nxt.record_id != lease.record_id


def test_k_annotators_share_a_record_and_no_more(store: Store) -> None:
    repo, project, users = _setup(store, 2, 3)
    leases = [repo.lease_next(project.id, u.id, 2, LEASE_S) for u in users]
    assert all(lease is not None for lease in leases)
    ids = [lease.record_id for lease in leases if lease is not None]
    assert ids[0] == ids[1] and ids[2] != ids[0]
    for user, rid in zip(users[:2], ids[:2], strict=True):
        repo.submit_label(project, rid, user, "a", 2)
    assert repo.get_record(project.id, ids[0]).n_labels == 2
    with pytest.raises(ConflictError):
        repo.submit_label(project, ids[0], users[2], "a", 2)


def test_a_lapsed_lease_frees_the_record_and_is_deleted(store: Store) -> None:
    repo, project, (u0, u1) = _setup(store, 1, 2)
    lapsed = repo.lease_next(project.id, u0.id, 1, -1.0)  # expired as soon as it is written
    assert lapsed is not None
    taken = repo.lease_next(project.id, u1.id, 1, LEASE_S)
    assert taken is not None and taken.record_id == lapsed.record_id
    assert repo.lease_next(project.id, u0.id, 1, LEASE_S) is None  # the only record is held by u1
    assert _assignments(store, u0.id) == 0  # u0's lapsed lease was cleaned up on the way


def test_a_budget_counts_leases_and_stops_new_records(store: Store) -> None:
    repo, project, users = _setup(store, 6, 3)
    first = repo.lease_next(project.id, users[0].id, 1, LEASE_S, budget=2)
    second = repo.lease_next(project.id, users[1].id, 1, LEASE_S, budget=2)
    assert first is not None and second is not None
    assert repo.lease_next(project.id, users[2].id, 1, LEASE_S, budget=2) is None
    assert repo.budget_used(project.id) == 2
    assert _assignments(store, users[2].id) == 0


@pytest.mark.parametrize("k", [1, 2])
def test_concurrent_annotators_never_exceed_k_per_record(store: Store, k: int) -> None:
    n_users, per_user = 6, 5
    repo, project, users = _setup(store, n_users * per_user, n_users)

    def annotate(user: UserInfo) -> list[int]:
        done = []
        for _ in range(per_user):
            lease = repo.lease_next(project.id, user.id, k, LEASE_S)
            assert lease is not None
            repo.submit_label(project, lease.record_id, user, "a", k)
            done.append(lease.record_id)
        return done

    with ThreadPoolExecutor(n_users) as pool:
        results = list(pool.map(annotate, users))
    counts = Counter(rid for done in results for rid in done)
    assert sum(counts.values()) == n_users * per_user
    assert max(counts.values()) <= k
    for done in results:
        assert len(set(done)) == per_user  # nobody labelled one record twice
    stored = Counter(c.record_id for c in repo.current_labels(project.id))
    assert stored == counts
