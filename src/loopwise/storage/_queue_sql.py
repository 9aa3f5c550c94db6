"""The annotation queue's prepared statements: SQLite runs them one by one; _queue_pg has PostgreSQL's fused ones.

Building SQLAlchemy expressions per request cost ten times more than running them. Datetimes are
bound through the column type, so SQLite stores and compares them in the same format as the ORM does.
"""

from __future__ import annotations

from sqlalchemy import JSON, DateTime, Integer, bindparam, text

_TS = DateTime(timezone=True)
SQL_MY_LEASES = text(
    "SELECT a.id, a.record_id, a.expires_at FROM assignments a "
    "JOIN annotation_records q ON q.record_id = a.record_id "
    "WHERE a.annotator_id = :user AND q.project_id = :project ORDER BY a.id"
).columns(id=Integer, record_id=Integer, expires_at=_TS)
SQL_EXTEND_LEASE = text("UPDATE assignments SET expires_at = :expires WHERE id = :id").bindparams(
    bindparam("expires", type_=_TS)
)
# With the last retrain's note (score, suggestion), so serving a record needs no second read.
_RECORD_COLUMNS = "q.record_id, r.external_id, r.payload, q.role, q.state, q.n_labels, q.score, q.suggestion"
SQL_QUEUE_RECORD = text(
    f"SELECT {_RECORD_COLUMNS} FROM annotation_records q JOIN records r ON r.id = q.record_id "
    "WHERE q.record_id = :record"
)
# Walk the project's open records in rank order (index project_id, state, rank); take the first that
# has room (labels plus live leases under k) and that this annotator has not labelled or skipped.
SQL_CANDIDATE = text(
    f"SELECT {_RECORD_COLUMNS} FROM annotation_records q JOIN records r ON r.id = q.record_id "
    "WHERE q.project_id = :project AND q.state = 'open' "
    "AND q.n_labels + (SELECT count(*) FROM assignments a WHERE a.record_id = q.record_id "
    "AND a.expires_at > :now) < :k "
    "AND NOT EXISTS (SELECT 1 FROM annotation_events e WHERE e.record_id = q.record_id "
    "AND e.annotator_id = :user AND e.kind IN ('label', 'skip')) "
    "ORDER BY q.rank, q.record_id LIMIT 1"
).bindparams(bindparam("now", type_=_TS))
# The same walk, among records already labelled or held (k > 1): what may still be served once the
# budget is spent.
SQL_CANDIDATE_STARTED = text(
    f"SELECT {_RECORD_COLUMNS} FROM annotation_records q JOIN records r ON r.id = q.record_id "
    "WHERE q.project_id = :project AND q.state = 'open' "
    "AND q.n_labels + (SELECT count(*) FROM assignments a WHERE a.record_id = q.record_id "
    "AND a.expires_at > :now) < :k "
    "AND (q.n_labels > 0 OR EXISTS (SELECT 1 FROM assignments a WHERE a.record_id = q.record_id "
    "AND a.expires_at > :now)) "
    "AND NOT EXISTS (SELECT 1 FROM annotation_events e WHERE e.record_id = q.record_id "
    "AND e.annotator_id = :user AND e.kind IN ('label', 'skip')) "
    "ORDER BY q.rank, q.record_id LIMIT 1"
).bindparams(bindparam("now", type_=_TS))
# Records a label budget has paid for or promised: labelled (flagged ones too: their labels were
# bought), or leased to someone right now.
SQL_BUDGET_USED = text(
    "SELECT count(*) FROM annotation_records q WHERE q.project_id = :project AND q.role = 'pool' "
    "AND (q.n_labels > 0 OR EXISTS (SELECT 1 FROM assignments a WHERE a.record_id = q.record_id "
    "AND a.expires_at > :now))"
).bindparams(bindparam("now", type_=_TS))
SQL_LEASE = text(
    "INSERT INTO assignments (record_id, annotator_id, expires_at) VALUES (:record, :user, :expires)"
).bindparams(bindparam("expires", type_=_TS))
SQL_LABEL_STATE = text(
    "SELECT q.role, q.state, q.n_labels, r.external_id, "
    "(SELECT max(a.expires_at) FROM assignments a WHERE a.record_id = q.record_id "
    "AND a.annotator_id = :user) AS my_lease, "
    "(SELECT count(*) FROM assignments a WHERE a.record_id = q.record_id AND a.annotator_id != :user "
    "AND a.expires_at > :now) AS others, "
    "(SELECT max(l.id) FROM labels l WHERE l.record_id = q.record_id AND l.run_id = :run "
    "AND l.annotator = :name) AS head, "
    "EXISTS (SELECT 1 FROM annotation_events e WHERE e.record_id = q.record_id AND e.annotator_id = :user "
    "AND e.kind = 'label' AND NOT EXISTS (SELECT 1 FROM annotation_events u WHERE u.undoes_id = e.id)) "
    "AS labelled "
    "FROM annotation_records q JOIN records r ON r.id = q.record_id "
    "WHERE q.record_id = :record AND q.project_id = :project"
).bindparams(bindparam("now", type_=_TS))
SQL_INSERT_LABEL = text(
    "INSERT INTO labels (record_id, run_id, value, source, annotator, created_at, supersedes_id) "
    "VALUES (:record, :run, :value, 'human', :name, :now, :head) RETURNING id"
).bindparams(bindparam("now", type_=_TS))
SQL_INSERT_EVENT = text(
    "INSERT INTO annotation_events (project_id, record_id, annotator_id, kind, label_id, created_at) "
    "VALUES (:project, :record, :user, 'label', :label, :now) RETURNING id"
).bindparams(bindparam("now", type_=_TS))
SQL_COUNT_LABEL = text("UPDATE annotation_records SET n_labels = :n, state = :state WHERE record_id = :record")
SQL_SET_RANK = text("UPDATE annotation_records SET rank = :rank, score = :score WHERE record_id = :record_id")
SQL_DROP_LEASE = text("DELETE FROM assignments WHERE id = :id")
SQL_RELEASE = text("DELETE FROM assignments WHERE record_id = :record AND annotator_id = :user")
# The records this annotator skipped, oldest skip first, that are open, have room (labels plus live
# leases under k) and carry no label of theirs; with the budget spent, only ones labelled or held.
SQL_CANDIDATE_SKIPPED = text(
    f"SELECT {_RECORD_COLUMNS} FROM annotation_records q JOIN records r ON r.id = q.record_id "
    "JOIN (SELECT e.record_id, max(e.id) AS last_skip FROM annotation_events e WHERE e.project_id = :project "
    "AND e.annotator_id = :user AND e.kind = 'skip' GROUP BY e.record_id) s ON s.record_id = q.record_id "
    "WHERE q.state = 'open' "
    "AND q.n_labels + (SELECT count(*) FROM assignments a WHERE a.record_id = q.record_id "
    "AND a.expires_at > :now) < :k "
    "AND NOT EXISTS (SELECT 1 FROM annotation_events l WHERE l.record_id = q.record_id "
    "AND l.annotator_id = :user AND l.kind = 'label') "
    "AND (:spent = 0 OR q.n_labels > 0 OR EXISTS (SELECT 1 FROM assignments a WHERE a.record_id = q.record_id "
    "AND a.expires_at > :now)) "
    "ORDER BY s.last_skip LIMIT 1"
).bindparams(bindparam("now", type_=_TS))
# A rank, its score, and the model's top class, its probability and the note for the annotate page.
SQL_SET_RANK_NOTED = text(
    "UPDATE annotation_records SET rank = :rank, score = :score, predicted = :predicted, "
    "confidence = :confidence, suggestion = :suggestion WHERE record_id = :record_id"
).bindparams(bindparam("suggestion", type_=JSON))
# The last retrain's note on one record, for the annotate page (a primary-key read, outside the lock).
SQL_NOTE = text("SELECT score, suggestion FROM annotation_records WHERE record_id = :record").columns(suggestion=JSON)

SQL_N_LABELLED = text(
    "SELECT count(*) FROM annotation_records WHERE project_id = :project AND role = 'pool' AND state != 'flagged' AND n_labels > 0"
)
