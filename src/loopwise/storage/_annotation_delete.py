"""Deleting an annotation project: every row that belongs to it, children before parents, in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, or_, select, text
from sqlalchemy.orm import Session

from loopwise.errors import NotFoundError

from ._annotation_models import (
    AdjudicationRow,
    AnnotationEventRow,
    AnnotatorQualityRow,
    ConsensusRow,
    LabelRuleRow,
    ReviewItemRow,
    RuleStatsRow,
    WeakLabelRow,
    AnnotationProjectRow,
    AnnotationRecordRow,
    ProjectMemberRow,
    RetrainFailureRow,
)
from ._models import AssignmentRow, LabelRow, LoopRow, ModelVersionRow, ProjectRow, RecordRow, RunRow


def delete_project_rows(session: Session, project_id: int) -> str:
    """Delete the project's events, leases, labels, queue, members, loops, model versions, runs and records.

    Returns the project's name. Artifact files (models, per-loop arrays, images) are content-addressed
    and may be shared with other projects, so they stay on disk.
    """
    project = session.get(ProjectRow, project_id)
    if project is None or session.get(AnnotationProjectRow, project_id) is None:
        raise NotFoundError(f"no project with id {project_id}")
    name = project.name
    records = select(RecordRow.id).where(RecordRow.project_id == project_id).scalar_subquery()
    runs = select(RunRow.id).where(RunRow.project_id == project_id).scalar_subquery()
    # Foreign keys are checked per statement: each table goes in one statement, after what points at it.
    session.execute(delete(AnnotationEventRow).where(AnnotationEventRow.project_id == project_id))
    session.execute(delete(AdjudicationRow).where(AdjudicationRow.project_id == project_id))
    for quality_table in (ReviewItemRow, ConsensusRow, AnnotatorQualityRow, LabelRuleRow, WeakLabelRow, RuleStatsRow):
        session.execute(delete(quality_table).where(quality_table.project_id == project_id))
    session.execute(delete(AssignmentRow).where(AssignmentRow.record_id.in_(records)))
    with _labels_deletable(session):
        session.execute(delete(LabelRow).where(or_(LabelRow.record_id.in_(records), LabelRow.run_id.in_(runs))))
    session.execute(delete(AnnotationRecordRow).where(AnnotationRecordRow.project_id == project_id))
    session.execute(delete(AnnotationProjectRow).where(AnnotationProjectRow.project_id == project_id))
    session.execute(delete(ProjectMemberRow).where(ProjectMemberRow.project_id == project_id))
    session.execute(delete(RetrainFailureRow).where(RetrainFailureRow.project_id == project_id))
    session.execute(delete(LoopRow).where(LoopRow.run_id.in_(runs)))
    session.execute(delete(ModelVersionRow).where(ModelVersionRow.run_id.in_(runs)))
    session.execute(delete(RunRow).where(RunRow.project_id == project_id))
    session.execute(delete(RecordRow).where(RecordRow.project_id == project_id))
    session.execute(delete(ProjectRow).where(ProjectRow.id == project_id))
    return name


# The append-only guard of migration 0001 (labels are the audit trail: the database refuses UPDATE and
# DELETE on them). Deleting a whole project is the one deliberate exception: the guard is lifted
# inside its transaction only, and put back before the transaction commits, so no other connection
# ever sees the table unguarded (DDL is transactional on SQLite and PostgreSQL).
_GUARD_MESSAGE = "labels are append-only: add a label that supersedes this one instead"
_SQLITE_DROP = "DROP TRIGGER labels_append_only_delete"
_SQLITE_CREATE = (
    "CREATE TRIGGER labels_append_only_delete BEFORE DELETE ON labels "
    f"BEGIN SELECT RAISE(ABORT, '{_GUARD_MESSAGE}'); END"
)
_POSTGRES_DROP = "DROP TRIGGER labels_append_only ON labels"
_POSTGRES_CREATE = (
    "CREATE TRIGGER labels_append_only BEFORE UPDATE OR DELETE ON labels "
    "FOR EACH ROW EXECUTE FUNCTION labels_append_only()"
)


@contextmanager
def _labels_deletable(session: Session) -> Iterator[None]:
    """Within the current transaction, let DELETE on labels through; the guard is back on exit."""
    dialect = session.get_bind().dialect.name
    drop, create = {
        "sqlite": (_SQLITE_DROP, _SQLITE_CREATE),
        "postgresql": (_POSTGRES_DROP, _POSTGRES_CREATE),
    }.get(dialect, (None, None))
    if drop is None or create is None:
        yield
        return
    session.execute(text(drop))
    yield
    # On an error the whole transaction rolls back, the dropped trigger with it.
    session.execute(text(create))
