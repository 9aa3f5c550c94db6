"""Reads for the dashboard and exports: labels in force, the label audit trail, progress counts."""

from __future__ import annotations

from sqlalchemy import func, select

from ._annotation_admin import _in_force, apply_adjudications, latest_adjudications
from ._annotation_base import AnnotationBase
from ._annotation_models import AnnotationEventRow, AnnotationRecordRow, not_undone
from ._annotation_projects import project_info
from ._annotation_types import CurrentLabel, Progress
from ._models import AnnotatorRow, AssignmentRow, LabelRow, RecordRow
from ._queue_sql import SQL_N_LABELLED
from ._types import LabelInfo
from ._util import as_utc, utc_now


class ReadQueries(AnnotationBase):
    """Read-only views of a project's labels and progress, cheap enough for the dashboard to poll."""

    def current_labels(self, project_id: int, adjudicated: bool = True) -> list[CurrentLabel]:
        """Every label in force (not undone) on the project's records, oldest first.

        With ``adjudicated`` (what training and export read), an adjudicated record has one label, the
        admin's decision; without it, the annotators' own labels (what agreement is measured on).
        """
        with self._sessions() as session:
            rows = session.execute(
                _in_force(project_id)
                .add_columns(RecordRow.external_id)
                .join(RecordRow, RecordRow.id == AnnotationEventRow.record_id)
                .order_by(AnnotationEventRow.id)
            )
            labels = [CurrentLabel(r, str(e), str(a), str(v), int(i), as_utc(c)) for r, a, v, i, c, e in rows]
            decided = latest_adjudications(session, project_id) if adjudicated else {}
        return apply_adjudications(labels, decided)

    def label_histories(self, project_id: int) -> dict[int, list[LabelInfo]]:
        """Record id -> every label row of the record, oldest first (what ``loopwise labels history`` lists)."""
        with self._sessions() as session:
            rows = session.execute(
                select(LabelRow, RecordRow.external_id)
                .join(RecordRow, RecordRow.id == LabelRow.record_id)
                .where(RecordRow.project_id == project_id)
                .order_by(LabelRow.id)
            ).all()
            out: dict[int, list[LabelInfo]] = {}
            for row, external_id in rows:
                out.setdefault(row.record_id, []).append(LabelInfo(
                    id=row.id, external_id=str(external_id), value=row.value, source=row.source, annotator=row.annotator,
                    run_id=row.run_id, created_at=as_utc(row.created_at), supersedes_id=row.supersedes_id,
                    model_version=row.model_version, confidence=row.confidence,
                ))
        return out

    def label_ids(self, project_id: int) -> list[tuple[int, str, str]]:
        """(label id, value, annotator) of every label row of the project's run: the audit trail."""
        with self._sessions() as session:
            settings = project_info(session, project_id)
            rows = session.execute(
                select(LabelRow.id, LabelRow.value, LabelRow.annotator)
                .where(LabelRow.run_id == settings.run_id)
                .order_by(LabelRow.id)
            )
            return [(int(i), str(v), str(a)) for i, v, a in rows]

    def n_labelled_records(self, project_id: int) -> int:
        """Pool records with at least one label in force: one indexed count, cheap enough to poll."""
        with self._engine.connect() as conn:
            return int(conn.execute(SQL_N_LABELLED, {"project": project_id}).scalar_one())

    def progress(self, project_id: int) -> Progress:
        now = utc_now()
        with self._sessions() as session:
            by_state = dict(
                session.execute(
                    select(AnnotationRecordRow.state, func.count())
                    .where(AnnotationRecordRow.project_id == project_id, AnnotationRecordRow.role == "pool")
                    .group_by(AnnotationRecordRow.state)
                ).all()
            )
            n_test = session.scalar(
                select(func.count()).where(
                    AnnotationRecordRow.project_id == project_id, AnnotationRecordRow.role == "test"
                )
            ) or 0
            n_labels = session.scalar(
                select(func.coalesce(func.sum(AnnotationRecordRow.n_labels), 0)).where(
                    AnnotationRecordRow.project_id == project_id
                )
            ) or 0
            n_skips = session.scalar(
                select(func.count()).where(
                    # An undone skip is no skip (undo takes back a skip as it does a label).
                    AnnotationEventRow.project_id == project_id, AnnotationEventRow.kind == "skip", not_undone()
                )
            ) or 0
            n_held = session.scalar(
                select(func.count())
                .select_from(AssignmentRow)
                .join(AnnotationRecordRow, AnnotationRecordRow.record_id == AssignmentRow.record_id)
                .where(AnnotationRecordRow.project_id == project_id, AssignmentRow.expires_at > now)
            ) or 0
            per_annotator = {
                str(name): int(count)
                for name, count in session.execute(
                    select(AnnotatorRow.name, func.count())
                    .join(AnnotationEventRow, AnnotationEventRow.annotator_id == AnnotatorRow.id)
                    .where(
                        AnnotationEventRow.project_id == project_id,
                        AnnotationEventRow.kind == "label",
                        not_undone(),
                    )
                    .group_by(AnnotatorRow.name)
                )
            }
        n_pool = sum(int(v) for v in by_state.values())
        return Progress(
            n_pool=n_pool, n_test=int(n_test), n_done=int(by_state.get("done", 0)),
            n_open=int(by_state.get("open", 0)), n_flagged=int(by_state.get("flagged", 0)),
            n_labels=int(n_labels), n_skips=int(n_skips), n_held=int(n_held), labels_per_annotator=per_annotator,
            n_auto=int(by_state.get("auto", 0)),
        )
