"""The learning side of the annotation repository: the training snapshot, loop records, the queue's new order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
from sqlalchemy import func, insert, select

from loopwise.errors import StoreError

from ._annotation_base import AnnotationBase
from ._annotation_models import AnnotationEventRow, AnnotationRecordRow
from ._annotation_types import SnapshotRecord
from ._checks import check_loop
from ._models import LoopRow, ModelVersionRow, RecordRow
from ._annotation_notes import Prediction, ranking_rows
from ._queue_sql import SQL_SET_RANK, SQL_SET_RANK_NOTED
from ._types import LoopWrite
from ._util import chunks, utc_now

_RANK_CHUNK = 200


class LearningQueries(AnnotationBase):
    """What the background retrain reads and writes: records to train on, loops, and the ranking it applies."""

    def snapshot(self, project_id: int) -> list[SnapshotRecord]:
        """Every record of the project with its queue state, in record id order (for training)."""
        # Columns, not ORM rows: every retrain reads every record (ORM objects took most of that time).
        q = AnnotationRecordRow
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(RecordRow.id, RecordRow.external_id, RecordRow.payload, q.role, q.gold, q.state, q.n_labels, q.rank)
                .join(q, q.record_id == RecordRow.id)
                .where(q.project_id == project_id)
                .order_by(RecordRow.id)
            )
            return [SnapshotRecord(*row) for row in rows]

    def annotator_actions(self, project_id: int) -> list[tuple[int, int, str, datetime]]:
        """Every annotator action of the project (annotator id, record id, kind, time), oldest first: what label times are measured from."""
        e = AnnotationEventRow
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(e.annotator_id, e.record_id, e.kind, e.created_at).where(e.project_id == project_id).order_by(e.id)
            )
            return [(int(a), int(r), str(k), t) for a, r, k, t in rows]

    def record_loop(self, project_id: int, run_id: str, loop: LoopWrite) -> None:
        """``Store.record_loop`` for a loop of people's labels, written so the queue barely waits.

        Its ``selected_ids`` (the records labelled since the last loop) are stored with the loop, but
        no label rows: human labels were written as they came. The artifacts (fsynced files) are
        written before taking the write lock; the transaction that adds the loop's rows is then as
        short as the queue's own.
        """
        values = check_loop(loop)
        artifact_hash = self.store._artifacts.put_arrays(loop.arrays)
        model_hash = None if loop.model is None else self.store._artifacts.put_bytes(loop.model)
        now = utc_now()
        with self._write(project_id) as session:
            self.store._lock_running_run(session, run_id)
            last = session.scalar(select(func.max(LoopRow.loop_index)).where(LoopRow.run_id == run_id))
            expected = 0 if last is None else last + 1
            if loop.loop_index != expected:
                raise StoreError(f"run {run_id} expects loop {expected} next, got loop_index {loop.loop_index}")
            session.execute(
                insert(LoopRow),
                [{
                    "run_id": run_id, "loop_index": loop.loop_index, "strategy": loop.strategy,
                    "selected_ids": list(loop.selected_ids),
                    "n_labelled": loop.n_labelled, "metrics": values["metrics"], "timings": values["timings"],
                    "label_cost": values["label_cost"], "artifact_hash": artifact_hash, "created_at": now,
                }],
            )
            if model_hash is not None:
                session.execute(
                    insert(ModelVersionRow),
                    [{"run_id": run_id, "loop_index": loop.loop_index, "artifact_hash": model_hash, "created_at": now}],
                )
        self.sync()

    def apply_ranking(
        self, project_id: int, record_ids: Sequence[int], ranks: Sequence[int], scores: Sequence[float | None],
        predictions: Sequence[Prediction | None] | None = None, strategy: str = "", loop_index: int = 0,
    ) -> None:
        """Write a new queue order, a chunk per transaction so annotators' requests interleave.

        With ``predictions`` (one per record, or None), each row also keeps the model's top classes and
        a note (``strategy``, ``loop_index``, its rank) for the annotate page (_annotation_notes).
        """
        clean = [None if s is None or not np.isfinite(s) else float(s) for s in scores]
        if predictions is None:
            rows = [{"record_id": int(r), "rank": int(k), "score": s} for r, k, s in zip(record_ids, ranks, clean, strict=True)]
        else:
            rows = ranking_rows(list(record_ids), list(ranks), clean, list(predictions), strategy, loop_index)
        statement = SQL_SET_RANK if predictions is None else SQL_SET_RANK_NOTED
        # Small chunks, each its own short transaction: the queue waits a millisecond, not a whole update.
        for chunk in chunks(rows, _RANK_CHUNK):
            with self._write_conn(project_id) as conn:
                conn.execute(statement, list(chunk))
