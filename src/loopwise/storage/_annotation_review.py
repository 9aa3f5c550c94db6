"""The review queue: labels the audit after each retrain doubts, and what a second person decided about each.

The retrain's audit (out-of-fold probabilities and cleanlab, in ``server/_audit``) hands over its suspects;
``store_audit`` keeps each as an open item, withdraws open items the new audit no longer doubts, and skips a
record whose training label a reviewer already confirmed. A reviewer keeps the label, or changes it: the
change is a new label row (the reviewer's) that wins in training and export as an adjudication does, so the
doubted label, its annotator's vote and the whole history stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from loopwise.errors import DataError, NotFoundError

from ._annotation_admin import _in_force, latest_adjudications
from ._annotation_base import AnnotationBase
from ._annotation_models import AdjudicationRow, AnnotationProjectRow, ReviewItemRow
from ._annotation_types import ConflictError, UserInfo
from ._models import AnnotatorRow, LabelRow, ProjectRow, RecordRow
from ._util import as_utc, utc_now


@dataclass(frozen=True, slots=True)
class Suspect:
    """A label the audit doubts: the record, its training label, the class the out-of-fold model prefers, and
    the out-of-fold probability of the given label (its self-confidence: lower is more suspicious)."""

    record_id: int
    given: str
    suggested: str | None
    self_confidence: float


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A review item as the API shows it, with the record and who labelled it (they may not review it)."""

    id: int
    record_id: int
    external_id: str
    payload: dict[str, Any] | None
    given: str
    suggested: str | None
    self_confidence: float
    loop_index: int
    status: str
    reviewer: str | None
    decided: str | None
    labelled_by: list[str]
    created_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReviewCounts:
    n_open: int
    n_kept: int
    n_changed: int
    n_withdrawn: int


class ReviewQueries(AnnotationBase):
    """The review queue's database work: the audit's suspects in, reviewers' decisions out."""

    def store_audit(self, project_id: int, loop_index: int, suspects: Sequence[Suspect]) -> int:
        """Open an item per new suspect, update the open ones still doubted, withdraw the rest; returns the open count.

        A record whose current training label a person already decided (a reviewer kept it or changed it to it, or an
    admin adjudicated it) is not doubted again.
        """
        now = utc_now()
        with self._write(project_id) as session:
            confirmed = {
                (int(r), str(v)) for r, v in session.execute(
                    select(ReviewItemRow.record_id, ReviewItemRow.decided).where(
                        ReviewItemRow.project_id == project_id, ReviewItemRow.status.in_(("kept", "changed"))
                    )
                )
            }
            # An admin's adjudication is a person's decision too: the audit does not send it back to people.
            confirmed |= {(r, label.value) for r, label in latest_adjudications(session, project_id).items()}
            open_items = {
                int(row.record_id): row for row in session.scalars(
                    select(ReviewItemRow).where(ReviewItemRow.project_id == project_id, ReviewItemRow.status == "open")
                )
            }
            heads = _labels_in_force(session, project_id, [s.record_id for s in suspects])
            wanted = {s.record_id: s for s in suspects if (s.record_id, s.given) not in confirmed}
            for record_id, row in open_items.items():
                suspect = wanted.pop(record_id, None)
                if suspect is None or suspect.given != row.given:
                    row.status, row.resolved_at = "withdrawn", now
                    if suspect is not None:
                        wanted[record_id] = suspect  # doubted again, on another label: a fresh item
                    continue
                row.suggested, row.self_confidence, row.loop_index = suspect.suggested, suspect.self_confidence, loop_index
            for suspect in wanted.values():
                session.add(ReviewItemRow(
                    project_id=project_id, record_id=suspect.record_id, given=suspect.given, suggested=suspect.suggested,
                    self_confidence=float(suspect.self_confidence), loop_index=loop_index, status="open", created_at=now,
                    label_id=heads.get((suspect.record_id, suspect.given)),
                ))
            session.flush()
            n_open = int(session.scalar(select(func.count()).where(
                ReviewItemRow.project_id == project_id, ReviewItemRow.status == "open"
            )) or 0)
        self.sync()
        return n_open

    def review_items(
        self, project_id: int, status: str | None = "open", offset: int = 0, limit: int = 50, *,
        not_labelled_by: str | None = None,
    ) -> tuple[list[ReviewItem], int]:
        """One page of the project's review items, most suspicious first (``not_labelled_by``: only those that
        user gave no label in force on), and how many match."""
        with self._sessions() as session:
            if session.get(AnnotationProjectRow, project_id) is None:
                raise NotFoundError(f"no project with id {project_id}")
            conditions: list[Any] = [ReviewItemRow.project_id == project_id]
            if status is not None:
                conditions.append(ReviewItemRow.status == status)
            if not_labelled_by is not None:
                labels = _in_force(project_id).subquery()
                conditions.append(~select(labels.c.record_id).where(
                    labels.c.record_id == ReviewItemRow.record_id, labels.c.annotator == not_labelled_by
                ).exists())
            count = int(session.scalar(select(func.count()).where(*conditions)) or 0)
            rows = list(session.scalars(
                select(ReviewItemRow).where(*conditions)
                .order_by(ReviewItemRow.self_confidence, ReviewItemRow.id).offset(offset).limit(limit)
            ))
            return _items(session, project_id, rows), count

    def review_item(self, project_id: int, item_id: int) -> ReviewItem:
        with self._sessions() as session:
            row = session.get(ReviewItemRow, item_id)
            if row is None or row.project_id != project_id:
                raise NotFoundError(f"project {project_id} has no review item {item_id}")
            return _items(session, project_id, [row])[0]

    def resolve_review(self, project_id: int, item_id: int, reviewer: UserInfo, value: str | None) -> ReviewItem:
        """Keep the doubted label (``value`` None or the same class) or change it to ``value``: a new label row of the
        reviewer's, chained after their own earlier labels of the record, that wins in training (an adjudication)."""
        now = utc_now()
        with self._write(project_id) as session:
            row = session.get(ReviewItemRow, item_id)
            if row is None or row.project_id != project_id:
                raise NotFoundError(f"project {project_id} has no review item {item_id}")
            if row.status != "open":
                raise ConflictError(f"review item {item_id} is {row.status} already; nothing to decide")
            project = session.get(ProjectRow, project_id)
            settings = session.get(AnnotationProjectRow, project_id)
            assert project is not None and settings is not None
            if value is not None and value not in project.label_names:
                raise DataError(f"label {value!r} is not a class of this project; classes: {list(project.label_names)}")
            labels = _in_force(project_id).subquery()
            labelled_by = {str(a) for a in session.scalars(select(labels.c.annotator).where(labels.c.record_id == row.record_id))}
            if reviewer.name in labelled_by:
                raise ConflictError(f"you labelled record {row.record_id}; a second person reviews it")
            decided = row.given if value is None else value
            row.reviewer_id, row.decided, row.resolved_at = reviewer.id, decided, now
            row.status = "kept" if decided == row.given else "changed"
            if row.status == "changed":
                head = session.scalar(select(func.max(LabelRow.id)).where(
                    LabelRow.record_id == row.record_id, LabelRow.run_id == settings.run_id, LabelRow.annotator == reviewer.name
                ))
                label = LabelRow(
                    record_id=row.record_id, run_id=settings.run_id, value=decided, source="human",
                    annotator=reviewer.name, created_at=now, supersedes_id=head,
                )
                session.add(label)
                session.flush()
                row.decision_label_id = label.id
                session.add(AdjudicationRow(
                    project_id=project_id, record_id=row.record_id, annotator_id=reviewer.id, label_id=label.id, created_at=now
                ))
            session.flush()
            item = _items(session, project_id, [row])[0]
        self.sync()
        return item

    def review_counts(self, project_id: int) -> ReviewCounts:
        with self._sessions() as session:
            counts = dict(session.execute(
                select(ReviewItemRow.status, func.count()).where(ReviewItemRow.project_id == project_id)
                .group_by(ReviewItemRow.status)
            ).all())
        return ReviewCounts(*(int(counts.get(s, 0)) for s in ("open", "kept", "changed", "withdrawn")))

    def withdraw_reviews(self, project_id: int) -> None:
        """Withdraw every open item (the audit is off, or found nothing to doubt)."""
        with self._write(project_id) as session:
            session.execute(
                update(ReviewItemRow).where(ReviewItemRow.project_id == project_id, ReviewItemRow.status == "open")
                .values(status="withdrawn", resolved_at=utc_now())
            )


def _labels_in_force(session: Session, project_id: int, record_ids: Sequence[int]) -> dict[tuple[int, str], int]:
    """(record id, value) -> the latest label row in force with that value, for the records given."""
    if not record_ids:
        return {}
    labels = _in_force(project_id).subquery()
    rows = session.execute(
        select(labels.c.record_id, labels.c.value, func.max(labels.c.label_id))
        .where(labels.c.record_id.in_(list(record_ids))).group_by(labels.c.record_id, labels.c.value)
    )
    return {(int(r), str(v)): int(i) for r, v, i in rows}


def _items(session: Session, project_id: int, rows: Sequence[ReviewItemRow]) -> list[ReviewItem]:
    ids = [row.record_id for row in rows]
    records = {r.id: r for r in session.scalars(select(RecordRow).where(RecordRow.id.in_(ids)))} if ids else {}
    labels = _in_force(project_id).subquery()
    by: dict[int, list[str]] = {}
    if ids:
        for record_id, annotator in session.execute(
            select(labels.c.record_id, labels.c.annotator).where(labels.c.record_id.in_(ids)).order_by(labels.c.label_id)
        ):
            by.setdefault(int(record_id), []).append(str(annotator))
    reviewers = {row.reviewer_id for row in rows if row.reviewer_id is not None}
    names = dict(session.execute(select(AnnotatorRow.id, AnnotatorRow.name).where(AnnotatorRow.id.in_(reviewers))).all()) if reviewers else {}
    return [
        ReviewItem(
            id=row.id, record_id=row.record_id, external_id=records[row.record_id].external_id,
            payload=records[row.record_id].payload, given=row.given, suggested=row.suggested,
            self_confidence=float(row.self_confidence), loop_index=row.loop_index, status=row.status,
            reviewer=None if row.reviewer_id is None else str(names[row.reviewer_id]), decided=row.decided,
            labelled_by=by.get(row.record_id, []), created_at=as_utc(row.created_at),
            resolved_at=None if row.resolved_at is None else as_utc(row.resolved_at),
        )
        for row in rows
    ]


__all__ = ["ReviewCounts", "ReviewItem", "ReviewQueries", "Suspect"]
