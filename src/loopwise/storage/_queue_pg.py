"""The annotation queue's PostgreSQL statements: one round trip per step while the project lock is held.

On PostgreSQL every queue transaction begins by locking the project's row (``_lock_project``); each
statement after that costs a round trip with the lock held, and a server thread waiting for a CPU or
the GIL between statements keeps every other writer of the project waiting. These statements do each
step's reads and writes in one statement (data-modifying CTEs), so a lease is the lock plus one
statement, and a label the lock, the state read and one write. Each is a separate statement after the
lock, so its snapshot is taken once the lock is held (READ COMMITTED): it sees every committed queue
write, as the separate statements did. They are sent in pipeline mode (_pg_pipeline): a lease is
one round trip (BEGIN, lock, statement, COMMIT), a label two (lock and state read; write and COMMIT).
SQLite has no data-modifying CTEs and keeps its own path.
"""

from __future__ import annotations

from sqlalchemy import DateTime, Integer, bindparam, text

_TS = DateTime(timezone=True)

# The annotator's leases in this project: lapsed ones are deleted, the oldest live one is extended and
# served; without one, the best-ranked open record with room (labels plus live leases under k) that
# this annotator has not labelled or skipped is leased, among records already labelled or held only
# once ``budget`` records are labelled or held. Returns the served record, or no row.
PG_LEASE_NEXT = text(
    "WITH mine AS ("
    " SELECT a.id, a.record_id, a.expires_at FROM assignments a"
    " JOIN annotation_records q ON q.record_id = a.record_id"
    " WHERE a.annotator_id = :user AND q.project_id = :project),"
    " lapsed AS (DELETE FROM assignments WHERE id IN (SELECT id FROM mine WHERE expires_at <= :now)),"
    " live AS (SELECT id, record_id FROM mine WHERE expires_at > :now ORDER BY id LIMIT 1),"
    " extended AS (UPDATE assignments a SET expires_at = :expires FROM live WHERE a.id = live.id"
    " RETURNING a.record_id),"
    " spent AS (SELECT CASE WHEN CAST(:budget AS integer) IS NULL THEN false ELSE ("
    "  SELECT count(*) FROM annotation_records b WHERE b.project_id = :project AND b.role = 'pool'"
    "  AND (b.n_labels > 0 OR EXISTS (SELECT 1 FROM assignments a WHERE a.record_id = b.record_id"
    "  AND a.expires_at > :now))) >= CAST(:budget AS integer) END AS spent),"
    " cand AS ("
    " SELECT q.record_id FROM annotation_records q"
    " WHERE NOT EXISTS (SELECT 1 FROM live) AND q.project_id = :project AND q.state = 'open'"
    " AND q.n_labels + (SELECT count(*) FROM assignments a WHERE a.record_id = q.record_id"
    " AND a.expires_at > :now) < :k"
    " AND (NOT (SELECT spent FROM spent) OR q.n_labels > 0 OR EXISTS (SELECT 1 FROM assignments a"
    " WHERE a.record_id = q.record_id AND a.expires_at > :now))"
    " AND NOT EXISTS (SELECT 1 FROM annotation_events e WHERE e.record_id = q.record_id"
    " AND e.annotator_id = :user AND e.kind IN ('label', 'skip'))"
    " ORDER BY q.rank, q.record_id LIMIT 1),"
    " leased AS (INSERT INTO assignments (record_id, annotator_id, expires_at)"
    " SELECT record_id, CAST(:user AS integer), CAST(:expires AS timestamptz) FROM cand RETURNING record_id)"
    " SELECT q.record_id, r.external_id, r.payload, q.role, q.state, q.n_labels, q.score, q.suggestion"
    " FROM annotation_records q JOIN records r ON r.id = q.record_id"
    " WHERE q.record_id = (SELECT record_id FROM extended UNION ALL SELECT record_id FROM leased LIMIT 1)"
).bindparams(bindparam("now", type_=_TS), bindparam("expires", type_=_TS))

# A label's writes, checked beforehand under the lock: the label row, its event, the record's count
# and state, and the annotator's lease released. Returns the label's and the event's ids.
PG_WRITE_LABEL = text(
    "WITH l AS (INSERT INTO labels (record_id, run_id, value, source, annotator, created_at, supersedes_id)"
    " VALUES (:record, :run, :value, 'human', :name, :now, :head) RETURNING id),"
    " e AS (INSERT INTO annotation_events (project_id, record_id, annotator_id, kind, label_id, created_at)"
    " SELECT CAST(:project AS integer), CAST(:record AS integer), CAST(:user AS integer), 'label', l.id,"
    " CAST(:now AS timestamptz) FROM l RETURNING id),"
    " c AS (UPDATE annotation_records SET n_labels = :n, state = :state WHERE record_id = :record),"
    " d AS (DELETE FROM assignments WHERE record_id = :record AND annotator_id = :user)"
    " SELECT l.id AS label_id, e.id AS event_id FROM l CROSS JOIN e"
).bindparams(bindparam("now", type_=_TS)).columns(label_id=Integer, event_id=Integer)
