"""The latest failed retrain of each project: the learning worker writes it, the dashboard reads it, a success clears it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete

from ._annotation_base import AnnotationBase
from ._annotation_models import RetrainFailureRow
from ._util import as_utc, utc_now

MAX_MESSAGE = 4000  # characters kept of a failure's message: a traceback's last line, not a novel


@dataclass(frozen=True)
class RetrainFailure:
    """Why the project's latest retrain failed, when, and how many records were labelled then."""

    message: str
    failed_at: datetime
    n_labelled: int


class FailureQueries(AnnotationBase):
    """Retrain failures, one row per project at most: kept until a retrain of that project works."""

    def record_retrain_failure(self, project_id: int, message: str, n_labelled: int) -> None:
        """Store (or replace) the project's latest retrain failure."""
        with self._write(project_id) as session:
            row = session.get(RetrainFailureRow, project_id)
            if row is None:
                row = RetrainFailureRow(project_id=project_id)
                session.add(row)
            row.message, row.n_labelled, row.failed_at = message[:MAX_MESSAGE], int(n_labelled), utc_now()

    def clear_retrain_failure(self, project_id: int) -> None:
        """Forget the project's retrain failure, if any: a retrain has worked since."""
        with self._write(project_id) as session:
            session.execute(delete(RetrainFailureRow).where(RetrainFailureRow.project_id == project_id))

    def retrain_failure(self, project_id: int) -> RetrainFailure | None:
        """The project's latest retrain failure, or None when its latest retrain worked (or none ran)."""
        with self._sessions() as session:
            row = session.get(RetrainFailureRow, project_id)
            return None if row is None else RetrainFailure(row.message, as_utc(row.failed_at), row.n_labelled)
